"""Journey (d) in Chromium: the manager builds a segment of promoters, sends them a
referral drive, watches the progress reach 100%, and a recipient opens the unsubscribe
link from their email and unsubscribes; the campaign page counts it. At a desktop width
and at 375 px, with axe on every step."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from advocates.models import Advocate
from campaigns.models import Suppression
from tests import factories
from tests.browser.conftest import require_browser

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_segment_send_progress_unsubscribe(browser, journey, width: str) -> None:
    manager = factories.ManagerFactory(email="maya.manager@example.com", first_name="Maya")
    promoters = [
        factories.AdvocateFactory(user__email=f"promoter{i}@example.com", user__first_name=n)
        for i, n in enumerate(["Priya", "Marco", "Lena"])
    ]
    Advocate.objects.filter(pk__in=[a.pk for a in promoters]).update(nps_score=10)
    factories.AdvocateFactory(user__email="passive@example.com")  # no NPS: not in the segment
    j = journey("campaign", width)

    console = j.new_page(browser)
    sign_in(console, manager.email, factories.PASSWORD)
    expect(console.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    console.get_by_label("Code").fill(factories.totp_code())
    console.get_by_role("button", name="Sign in").click()

    # A segment: promoters.
    console.goto("/console/segments/new/")
    console.get_by_label("Name").fill("Promoters")
    console.get_by_label("Promoters (9–10)").check()
    j.step(console, "segment editor")
    console.get_by_role("button", name="Save segment").click()
    expect(console.get_by_role("heading", name="Promoters")).to_be_visible()

    # A referral drive to it, sent now.
    console.goto("/console/campaigns/new/")
    expect(console.get_by_role("heading", name="New campaign")).to_be_visible()
    console.get_by_label("Name").fill("Refer a peer")
    console.get_by_label("Kind").select_option("referral_drive")
    console.get_by_label("Send to segment").select_option(label="Promoters")
    console.get_by_label("Subject:", exact=True).fill("{{ first_name }}, know a team like yours?")
    console.get_by_label("Body:", exact=True).fill(
        "Hi {{ first_name }},\n\nShare your link: {{ referral_link }}\n\nThank you!"
    )
    console.get_by_label("Send now").check()
    j.step(console, "compose")
    console.get_by_role("button", name="Save").click()

    # The campaign page: the bar fills (tasks run in-process here, so it is full at once).
    expect(console.get_by_role("heading", name="Refer a peer")).to_be_visible()
    expect(console.locator("#progress")).to_contain_text("3 of 3 handled (100%)")
    expect(console.locator("#progress-bar")).to_have_attribute("value", "3")
    j.step(console, "progress 100 percent")

    # Priya opens the unsubscribe link from her email and unsubscribes.
    [email] = [m for m in mail.outbox if m.to == ["promoter0@example.com"]]
    link = re.search(r"Unsubscribe from campaign emails: (\S+)", email.body).group(1)
    recipient = j.new_page(browser)
    recipient.goto(urlsplit(link).path)
    expect(
        recipient.get_by_role("heading", name="Unsubscribe from campaign emails?")
    ).to_be_visible()
    j.step(recipient, "unsubscribe confirm", no_sideways_scroll=True)
    recipient.get_by_role("button", name="Unsubscribe").click()
    expect(recipient.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    j.step(recipient, "unsubscribed", no_sideways_scroll=True)
    assert Suppression.objects.filter(email="promoter0@example.com").exists()

    # The manager sees it counted.
    console.reload()
    unsubscribed = console.locator(".campaign-counts div", has_text="Unsubscribed").last
    expect(unsubscribed.locator("dd")).to_have_text("1")
    j.step(console, "counts after unsubscribe")
