"""Journey (a) in Chromium: a manager invites someone, who joins from the emailed link,
completes a challenge, gets it approved, redeems a reward and sees the code the manager
fulfilled it with. At a desktop width and at a phone's 375 px."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from advocates.models import Advocate
from rewards.models import Reward
from tests import factories
from tests.browser.conftest import nav_link, require_browser
from tests.challenges.factories import ChallengeFactory
from tests.rewards.factories import RewardFactory

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVITEE = "nia.okafor@example.com"
NEW_PASSWORD = "a-long-and-happy-passphrase-42"
GIFT_CODE = "GIFT-7Q2K-93XM"


def sign_in(page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def open_console_page(page, name: str) -> None:
    """A manager's page: "Console" in the top bar, then the console's own navigation."""
    nav_link(page, "Console").click()
    # The console's home has loaded (and its script bound the fold) before the fold is
    # looked at: is_visible() does not wait, and the page before may be a console page.
    page.wait_for_url(lambda url: urlsplit(url).path == reverse("console:home"))
    page.wait_for_load_state("load")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav).to_be_visible()
    menu = nav.get_by_role("button", name="Console pages")
    if menu.is_visible():  # a phone: the console's pages fold behind it
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name=name, exact=True).click()


def top_bar_fits_one_row(page, *, phone_layout: bool) -> None:
    """ "Sign out" sits on the brand's row; on a desktop the advocate's nav does too, on a
    phone the "Menu" button that opens it."""
    brand = page.locator(".topbar .brand").bounding_box()
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    middle = brand["y"] + brand["height"] / 2
    assert abs(sign_out["y"] + sign_out["height"] / 2 - middle) < 8, (brand, sign_out)
    if phone_layout:
        menu = page.get_by_role("button", name="Menu").bounding_box()
        assert abs(menu["y"] + menu["height"] / 2 - middle) < 8, (brand, menu)
    else:
        nav = page.get_by_role("navigation", name="Main").bounding_box()
        assert nav["height"] < 2 * sign_out["height"], f"the nav wraps: {nav}"
        assert abs(nav["y"] + nav["height"] / 2 - middle) < 8, (brand, nav)


def skip_link_works(page) -> None:
    """The first Tab shows "Skip to content"; Enter moves the focus past the top bar."""
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0, "the focused skip link is off screen"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused_in_topbar = page.evaluate("() => !!document.activeElement.closest('.topbar')")
    assert not focused_in_topbar, "after the skip link, Tab still lands in the top bar"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_invite_join_earn_redeem_fulfil(browser, journey, width: str) -> None:
    manager = factories.ManagerFactory(
        email="maya.manager@example.com", first_name="Maya", last_name="Lind"
    )
    challenge = ChallengeFactory(
        title="Tell us how you use Vouch",
        description="Two or three sentences are plenty.",
        points=100,
        auto_approve=False,
    )
    reward = RewardFactory(
        name="Coffee gift card",
        description="A €15 card for your favourite coffee shop.",
        kind=Reward.Kind.GIFT_CARD,
        points_cost=150,
    )
    j = journey("advocate", width)
    phone = {"no_sideways_scroll": True}

    # The manager signs in and invites a new contact.
    console = j.new_page(browser)
    console.goto("/")
    expect(console.get_by_role("heading", name="Sign in")).to_be_visible()
    j.step(console, "manager sign-in")
    sign_in(console, manager.email, factories.PASSWORD)
    # Managers must use two-factor authentication: the code of the test authenticator.
    expect(console.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    j.step(console, "manager two-factor code")
    console.get_by_label("Code").fill(factories.totp_code())
    console.get_by_role("button", name="Sign in").click()
    nav_link(console, "Invitations").click()
    expect(console.get_by_role("heading", name="Invite advocates")).to_be_visible()
    j.step(console, "invite form")
    invite = console.locator("form", has=console.get_by_role("button", name="Send invitation"))
    invite.get_by_label("Email").fill(INVITEE)
    invite.get_by_label("First name").fill("Nia")
    invite.get_by_label("Last name").fill("Okafor")
    invite.get_by_label("Company").fill("Okafor Logistics")
    invite.get_by_role("button", name="Send invitation").click()
    expect(console.locator(".messages")).to_contain_text(INVITEE)
    j.step(console, "invitation sent")

    # The invitee opens the emailed link in a browser of their own.
    [email] = [m for m in mail.outbox if INVITEE in m.to]
    link = re.search(r"https?://\S+/join/\S+/", email.body)
    assert link, email.body
    advocate_page = j.new_page(browser)
    advocate_page.goto(urlsplit(link.group(0)).path)
    expect(advocate_page.get_by_role("heading", name=re.compile("^Join"))).to_be_visible()
    j.step(advocate_page, "invitation link", **phone)
    advocate_page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    advocate_page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    advocate_page.get_by_role("button", name="Join the community").click()

    # The hub greets them with their welcome points.
    expect(advocate_page.get_by_role("heading", name="Hi Nia")).to_be_visible()
    expect(advocate_page.get_by_role("region", name="Points to spend")).to_contain_text("100")
    j.step(advocate_page, "hub with welcome points", **phone)
    top_bar_fits_one_row(advocate_page, phone_layout=j.is_phone)
    skip_link_works(advocate_page)

    # They complete a challenge that a manager reviews.
    nav_link(advocate_page, "Challenges").click()
    card = advocate_page.get_by_role("article", name=challenge.title)
    expect(card).to_be_visible()
    j.step(advocate_page, "challenges", **phone)
    card.get_by_text("Take part").click()  # the card's form is folded until asked for
    card.get_by_label("Your answer").fill(
        "We onboard every new customer with it; our churn halved in a year."
    )
    card.get_by_role("button", name="Submit").click()
    expect(advocate_page.get_by_role("article", name=challenge.title)).to_contain_text("Submitted.")
    j.step(advocate_page, "challenge submitted", **phone)

    # The manager approves it in the review queue.
    open_console_page(console, "Review")
    expect(console.get_by_role("heading", name="Review queue")).to_be_visible()
    item = console.locator(".review-item", has_text="Nia")
    expect(item).to_contain_text(challenge.title)
    j.step(console, "review queue")
    item.get_by_role("button", name="Approve", exact=True).click()
    expect(console.locator(".review-item", has_text="Nia")).to_contain_text("Approved.")
    j.step(console, "submission approved")

    # With 200 points, the advocate redeems the gift card, after a confirmation step.
    nav_link(advocate_page, "Rewards").click()
    expect(advocate_page.get_by_role("main")).to_contain_text("You have 200 points to spend")
    j.step(advocate_page, "reward catalog", **phone)
    advocate_page.get_by_role("link", name=f"Redeem {reward.name}").click()
    expect(advocate_page.get_by_role("heading", name=f"Redeem {reward.name}")).to_be_visible()
    j.step(advocate_page, "confirm redemption", **phone)
    advocate_page.get_by_role("button", name="Redeem for 150 points").click()
    expect(advocate_page.locator(".messages")).to_contain_text(f"Redeemed “{reward.name}”")
    j.step(advocate_page, "redemption requested", **phone)
    advocate = Advocate.objects.get(user__email=INVITEE)
    assert advocate.balance == 50

    # The manager fulfils it with the gift-card code.
    open_console_page(console, "Fulfilment")
    row = console.locator(".queue-item", has_text=reward.name)
    expect(row).to_contain_text("Nia")
    j.step(console, "fulfilment queue")
    row.get_by_label("Gift-card code").fill(GIFT_CODE)
    row.get_by_role("button", name="Mark fulfilled").click()
    expect(console.locator(".queue-item", has_text=reward.name)).to_contain_text(GIFT_CODE)
    j.step(console, "fulfilled")

    # The advocate finds the code among their redemptions.
    advocate_page.goto("/rewards/redemptions/")
    expect(advocate_page.get_by_role("heading", name="My redemptions")).to_be_visible()
    expect(advocate_page.get_by_role("main")).to_contain_text(GIFT_CODE)
    j.step(advocate_page, "code in my redemptions", **phone)
