"""Journey in Chromium: an advocate joins a group by its invite link, looks at the
group's leaderboard, asks a question in the group; another member answers, the asker
accepts the answer and the answerer's points rise once. At 1280 and 375 px."""

from __future__ import annotations

import pytest

from advocates.links import group_invite_token
from advocates.models import Advocate, CommunityGroup
from core.models import ProgramSettings
from discussions.models import Thread
from rewards.models import LedgerEntry
from tests import factories
from tests.browser.conftest import nav_link, require_browser
from tests.browser.test_journey_advocate import top_bar_fits_one_row

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "How do you get audit logs into Splunk?"
ANSWER_POINTS = 30


def sign_in(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_join_ask_answer_accept(browser, journey, width: str) -> None:
    program = ProgramSettings.load()
    program.accepted_answer_points = ANSWER_POINTS
    program.save()
    group = factories.GroupFactory(
        name="Healthcare & finance admins", kind=CommunityGroup.Kind.INVITE
    )
    asker = factories.AdvocateFactory(
        user__email="ada@example.com", user__first_name="Ada", user__last_name="Lovelace"
    )
    answerer = factories.AdvocateFactory(
        user__email="dana@example.com", user__first_name="Dana", user__last_name="Lee"
    )
    factories.GroupMembershipFactory(group=group, advocate=answerer)
    j = journey("community", width)
    phone = {"no_sideways_scroll": True}

    # The asker opens the invite link, signs in, and joins.
    ada = j.new_page(browser)
    ada.goto(f"/groups/invite/{group_invite_token(group)}/")
    sign_in(ada, asker.user.email)
    expect(ada.get_by_role("heading", name=f"Join {group.name}")).to_be_visible()
    j.step(ada, "group invite", **phone)
    ada.get_by_role("button", name="Join the group").click()
    expect(ada.locator(".messages")).to_contain_text(f"You joined {group.name}")
    j.step(ada, "joined", **phone)

    # The group's leaderboard, then its discussions.
    mine = ada.get_by_role("region", name="Your groups")
    mine.get_by_role("link", name="Leaderboard").click()
    expect(ada.get_by_role("heading", name=f"{group.name} leaderboard")).to_be_visible()
    j.step(ada, "group leaderboard", **phone)
    nav_link(ada, "Groups").click()
    ada.get_by_role("region", name="Your groups").get_by_role("link", name="Discussions").click()
    expect(ada.get_by_role("heading", name=f"{group.name}: discussions")).to_be_visible()
    j.step(ada, "group discussions", **phone)

    # The question, asked in the group.
    ada.get_by_role("link", name="New post").click()
    expect(ada.get_by_label("Where")).to_have_value(str(group.pk))
    ada.get_by_label("Title").fill(TITLE)
    ada.get_by_label("Details").fill("Our auditors want every admin action in **Splunk**.")
    j.step(ada, "new question", **phone)
    ada.get_by_role("button", name="Post").click()
    expect(ada.get_by_role("heading", name=TITLE)).to_be_visible()
    j.step(ada, "question posted", **phone)
    thread = Thread.objects.get(title=TITLE)
    assert thread.group_id == group.pk

    # Another member answers (htmx: the conversation is swapped in place).
    dana = j.new_page(browser)
    dana.goto("/")
    sign_in(dana, answerer.user.email)
    nav_link(dana, "Community").click()
    dana.get_by_role("link", name=TITLE).click()
    dana.get_by_label("Your reply").fill("Turn on the webhook export, then point Splunk at it.")
    dana.get_by_role("button", name="Reply").click()
    expect(dana.locator("#conversation")).to_contain_text("Turn on the webhook export")
    expect(dana.get_by_label("Your reply")).to_have_value("")
    j.step(dana, "answer posted", **phone)

    # The asker accepts it; the answerer is paid once.
    ada.reload()
    reply = ada.locator(".reply-list > li", has_text="Turn on the webhook export")
    reply.get_by_role("button", name="Accept answer").click()
    expect(reply).to_contain_text("Accepted answer")
    expect(ada.get_by_role("button", name="Un-accept")).to_be_visible()
    j.step(ada, "answer accepted", **phone)
    ada.reload()
    expect(ada.locator(".reply--accepted")).to_contain_text("Turn on the webhook export")
    answerer = Advocate.objects.get(pk=answerer.pk)
    assert answerer.balance == ANSWER_POINTS
    assert LedgerEntry.objects.filter(advocate=answerer).count() == 1

    # The answerer's hub tells them, with the points.
    nav_link(dana, "Hub").click()
    expect(dana.get_by_text("was accepted")).to_be_visible()
    j.step(dana, "hub notification", **phone)
    # "Community" joined the advocate's links: the top bar still holds one row.
    top_bar_fits_one_row(dana, phone_layout=j.is_phone)
