"""At a phone's 375 px: tables show their key column without scrolling, the navigation
(and the console's) opens from a menu button, and the challenges page opens one form at a
time.

Every page state is a journey step: screenshotted, checked with axe-core, and failed if
the page scrolls sideways."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests import factories
from tests.browser.conftest import require_browser
from tests.challenges.factories import ChallengeFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import give_points

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 375
# A real surname, one word: the longest thing a name cell has to hold.
LONG_SURNAME = "Wolfeschlegelsteinhausenbergerdorff"


def sign_in(page: Any, email: str) -> None:
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def shown_whole(page: Any, cell: Any) -> None:
    """The cell is on the phone's screen and not cut off by a box that scrolls."""
    box = cell.bounding_box()
    assert box is not None, "the cell is not shown"
    assert box["x"] >= 0, f"off screen: {box}"
    assert box["x"] + box["width"] <= PHONE, f"off screen: {box}"
    clip = cell.evaluate(
        """(el) => {
          for (let p = el.parentElement; p; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== "visible") return p.getBoundingClientRect().right;
          }
          return null;
        }"""
    )
    if clip is not None:
        assert box["x"] + box["width"] <= clip + 0.5, f"cut off at {clip}px by a scrolling box"


@pytest.fixture
def advocate() -> Any:
    return factories.AdvocateFactory(
        user__first_name="Maximilian", user__last_name=LONG_SURNAME, user__email="max@example.com"
    )


def test_tables_show_their_key_column_on_a_phone(browser, journey, advocate) -> None:
    give_points(advocate, 1250)
    for n, points in enumerate([900, 400], start=1):
        give_points(factories.AdvocateFactory(user__last_name=f"Other{n}"), points)
    ReferralFactory(advocate=advocate, referred_name=f"Johanna {LONG_SURNAME}")
    j = journey("phone-tables", "phone")
    page = j.new_page(browser)
    sign_in(page, advocate.user.email)

    page.goto(reverse("challenges:leaderboard"))
    board = page.locator(".board-table")
    expect(board).to_contain_text(LONG_SURNAME)
    j.step(page, "leaderboard", no_sideways_scroll=True)
    for row in board.locator("tbody tr").all():
        shown_whole(page, row.locator("td").last)  # Points
    mine = board.locator("tr.is-me td").last
    expect(mine).to_contain_text("1,250")

    page.goto(reverse("referrals:tracker"))
    referrals = page.get_by_role("region", name="Referrals")
    expect(referrals).to_contain_text(LONG_SURNAME)
    j.step(page, "my referrals", no_sideways_scroll=True)
    row = referrals.locator("tbody tr").first
    shown_whole(page, row.locator("td").last)  # My reward
    shown_whole(page, row.locator(".badge").first)  # the stage


def test_the_menu_button_opens_the_navigation_on_a_phone(browser, journey, advocate) -> None:
    j = journey("phone-menu", "phone")
    page = j.new_page(browser)
    sign_in(page, advocate.user.email)
    page.goto(reverse("advocates:hub"))
    nav = page.get_by_role("navigation", name="Main")
    referrals = nav.get_by_role("link", name="Referrals", exact=True)
    menu = page.get_by_role("button", name="Menu")

    # Closed: the links are folded away behind a real button that says what it controls.
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "main-nav")
    expect(referrals).to_be_hidden()
    j.step(page, "menu closed", no_sideways_scroll=True)

    # From the keyboard: Enter opens it as a list, Escape closes it and keeps the focus.
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(referrals).to_be_visible()
    j.step(page, "menu open", no_sideways_scroll=True)
    for name in ("Hub", "Referrals", "References", "Profile"):
        shown_whole(page, nav.get_by_role("link", name=name, exact=True))
    hub_box = nav.get_by_role("link", name="Hub").bounding_box()
    profile_box = nav.get_by_role("link", name="Profile").bounding_box()
    assert profile_box["y"] > hub_box["y"] + 3 * hub_box["height"], "not a vertical list"
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(referrals).to_be_hidden()
    expect(menu).to_be_focused()

    # And a tap on a link goes there.
    menu.click()
    referrals.click()
    expect(page.get_by_role("heading", name="My referrals")).to_be_visible()


def test_the_console_menu_opens_the_consoles_pages_on_a_phone(browser, journey) -> None:
    j = journey("phone-console-menu", "phone")
    page = j.new_page(browser)
    manager = factories.ManagerFactory()
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    code = page.get_by_label("Code")
    if code.count():
        code.fill(factories.totp_code())
        page.get_by_role("button", name="Sign in").click()
    page.goto(reverse("console:home"))
    nav = page.get_by_role("navigation", name="Console")
    menu = nav.get_by_role("button", name="Console pages")
    rewards = nav.get_by_role("link", name="Rewards", exact=True)

    # Folded: one button, not a strip of links running off the screen.
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(rewards).to_be_hidden()
    j.step(page, "console menu closed", no_sideways_scroll=True)

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    j.step(page, "console menu open", no_sideways_scroll=True)
    links = nav.get_by_role("link")
    assert links.count() > 12
    for index in range(links.count()):
        shown_whole(page, links.nth(index))  # every page reachable without scrolling sideways
        assert links.nth(index).bounding_box()["height"] >= 44  # a tap target
    page.keyboard.press("Escape")
    expect(menu).to_be_focused()
    expect(rewards).to_be_hidden()

    menu.click()
    rewards.click()
    expect(page).to_have_url(re.compile(re.escape(reverse("rewards:manage")) + "$"))


def test_without_javascript_the_links_show_wrapped(browser, browser_env, advocate) -> None:
    context = browser.new_context(
        base_url=browser_env.url,
        viewport={"width": PHONE, "height": 740},
        is_mobile=True,
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        sign_in(page, advocate.user.email)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # it could not open
        nav = page.get_by_role("navigation", name="Main")
        for name in ("Hub", "Referrals", "References", "Profile"):
            shown_whole(page, nav.get_by_role("link", name=name, exact=True))
    finally:
        context.close()


def test_the_navigation_is_unchanged_on_a_desktop(browser, journey, advocate) -> None:
    j = journey("desktop-menu", "desktop")
    page = j.new_page(browser)
    sign_in(page, advocate.user.email)
    page.goto(reverse("advocates:hub"))
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    links = nav.get_by_role("link")
    tops = {round(link.bounding_box()["y"]) for link in links.all()}
    assert len(tops) == 1, f"the desktop nav is not one row: {tops}"
    j.step(page, "desktop nav")


def test_the_challenges_page_opens_one_form_at_a_time(browser, journey, advocate) -> None:
    challenges = [
        ChallengeFactory(title=f"Tell us story {n}", description="Two or three sentences.")
        for n in range(1, 7)
    ]
    j = journey("phone-challenges", "phone")
    page = j.new_page(browser)
    sign_in(page, advocate.user.email)
    page.goto(reverse("challenges:list"))
    answers = page.get_by_label("Your answer")
    expect(answers).to_have_count(6)
    for answer in answers.all():
        expect(answer).to_be_hidden()
    height = page.evaluate("() => document.documentElement.scrollHeight")
    # Six cards with their forms open made the page over 3,000 px tall.
    assert height < 2500, f"the challenges page is {height}px tall"
    j.step(page, "challenges folded", no_sideways_scroll=True)

    first = page.get_by_role("article", name=challenges[0].title)
    second = page.get_by_role("article", name=challenges[1].title)
    first.get_by_text("Take part").click()
    expect(first.get_by_label("Your answer")).to_be_visible()
    j.step(page, "one challenge open", no_sideways_scroll=True)

    # From the keyboard, the second one: it opens and the first one closes.
    second.get_by_text("Take part").focus()
    page.keyboard.press("Enter")
    expect(second.get_by_label("Your answer")).to_be_visible()
    expect(first.get_by_label("Your answer")).to_be_hidden()
    assert len([a for a in answers.all() if a.is_visible()]) == 1

    # Sent empty, it comes back with its error, still open.
    second.get_by_role("button", name="Submit").click()
    second = page.get_by_role("article", name=challenges[1].title)
    expect(second.locator(".errorlist")).to_be_visible()
    expect(second.get_by_label("Your answer")).to_be_visible()
    j.step(page, "a form with an error stays open", no_sideways_scroll=True)
