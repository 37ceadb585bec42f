"""Journey in Chromium: an advocate accepts and offers three times in their timezone, the
prospect picks one on their signed page in theirs, both .ics invitations parse and carry
the same UID, a move updates it (same UID, higher SEQUENCE), and the call counts only once
both sides confirm it happened. At a desktop width and at 375 px."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from advocates.models import Advocate
from references.models import Ask, Meeting, ReferenceRequest
from references.services import attendance_sweep, call_points
from tests import factories
from tests.browser.conftest import require_browser
from tests.references.factories import AskFactory, ReferenceRequestFactory

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROSPECT = "percy.prospect@acme-clinics.example"
ADVOCATE_ZONE = "Europe/Berlin"
PROSPECT_ZONE = "America/New_York"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def link_in(message, pattern: str) -> str:
    found = re.search(rf"https?://[^\s\"<>]+{pattern}[^\s\"<>]*", message.body)
    assert found, message.body
    split = urlsplit(found.group(0))
    return split.path + (f"?{split.query}" if split.query else "")


def invitations(messages, to: str) -> list[Calendar]:
    """The .ics files mailed to ``to``, parsed."""
    return [
        Calendar.from_ical(content)
        for message in messages
        if to in message.to
        for _name, content, mimetype in message.attachments
        if mimetype.startswith("text/calendar")
    ]


def event(calendar: Calendar):
    return next(iter(calendar.walk("VEVENT")))


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_offer_pick_invite_move_and_confirm_attendance(browser, journey, width: str) -> None:
    rep = factories.RepFactory(email="ravi.rep@example.com", first_name="Ravi", last_name="Rao")
    hana = factories.AdvocateFactory(
        user__email="hana.ito@example.com",
        user__first_name="Hana",
        user__last_name="Ito",
        title="Head of Clinical Operations",
        reference_opt_in=True,
    )
    request = ReferenceRequestFactory(
        rep=rep,
        prospect_name="Percy Prospect",
        prospect_email=PROSPECT,
        status=ReferenceRequest.Status.ASKED,
    )
    AskFactory(request=request, advocate=hana)
    j = journey("scheduling", width)
    phone = {"no_sideways_scroll": True}

    # Hana accepts and offers three times, in Berlin time.
    advocate_page = j.new_page(browser)
    sign_in(advocate_page, hana.user.email, factories.PASSWORD)
    advocate_page.goto("/references/mine/")
    card = advocate_page.locator(".ask-card", has_text="Percy Prospect")
    card.get_by_role("button", name="Accept").click()
    advocate_page.get_by_role("link", name="Schedule the call").click()
    expect(advocate_page.get_by_role("heading", name="Offer times for the call")).to_be_visible()
    advocate_page.get_by_label("Timezone").select_option(ADVOCATE_ZONE)
    start = timezone.localdate() + timedelta(days=3)
    walls = [datetime.combine(start + timedelta(days=n), time(10 + n)) for n in range(3)]
    for number, wall in enumerate(walls, start=1):
        advocate_page.get_by_label(re.compile(rf"^Time {number}")).fill(
            wall.strftime("%Y-%m-%dT%H:%M")
        )
    advocate_page.get_by_label("Video link").fill("https://meet.example.com/hana-percy")
    j.step(advocate_page, "advocate offers times", **phone)
    advocate_page.get_by_role("button", name="Send to Percy").click()
    expect(
        advocate_page.get_by_role("heading", name=re.compile("Waiting for Percy"))
    ).to_be_visible()
    j.step(advocate_page, "times offered", **phone)

    # Percy opens the emailed link; his browser (New York) shows the times in his zone.
    [offer] = [m for m in mail.outbox if PROSPECT in m.to and "Pick a time" in m.subject]
    prospect = j.new_page(browser, timezone_id=PROSPECT_ZONE)
    prospect.goto(link_in(offer, "/call/"))
    expect(prospect.get_by_role("heading", name="Pick a time that suits you")).to_be_visible()
    expect(prospect.get_by_label("Show times in")).to_have_value(PROSPECT_ZONE)
    second = walls[1].replace(tzinfo=ZoneInfo(ADVOCATE_ZONE)).astimezone(ZoneInfo(PROSPECT_ZONE))
    j.step(prospect, "prospect sees the times in New York time", **phone)
    before = len(mail.outbox)
    prospect.get_by_role("button", name=re.compile(second.strftime("%H:%M"))).click()
    expect(prospect.get_by_text("Booked", exact=True)).to_be_visible()
    j.step(prospect, "prospect booked", **phone)

    # Both get an invitation; the two files parse and name the same meeting.
    sent = mail.outbox[before:]
    [to_prospect] = invitations(sent, PROSPECT)
    [to_hana] = invitations(sent, hana.user.email)
    meeting = Meeting.objects.get()
    for calendar in (to_prospect, to_hana):
        assert calendar["METHOD"] == "REQUEST"
        assert str(event(calendar)["UID"]) == meeting.uid
        assert event(calendar)["SEQUENCE"] == 0
        assert event(calendar).decoded("DTSTART") == second
    # The prospect's own .ics download is the same meeting.
    download = prospect.request.get(prospect.url.split("?")[0] + "invite.ics")
    assert str(event(Calendar.from_ical(download.body()))["UID"]) == meeting.uid

    # Percy moves it to the third time: an update with the same UID, a higher SEQUENCE.
    third = walls[2].replace(tzinfo=ZoneInfo(ADVOCATE_ZONE)).astimezone(ZoneInfo(PROSPECT_ZONE))
    before = len(mail.outbox)
    prospect.get_by_role("button", name=re.compile(third.strftime("%H:%M"))).click()
    expect(
        prospect.get_by_role("heading", name=re.compile(third.strftime("%H:%M")))
    ).to_be_visible()
    j.step(prospect, "prospect moved the call", **phone)
    [moved] = invitations(mail.outbox[before:], hana.user.email)
    assert str(event(moved)["UID"]) == meeting.uid
    assert event(moved)["SEQUENCE"] == 1
    assert event(moved).decoded("DTSTART") == third

    # The call's hour comes and goes (moved back in the database: the browser cannot wait).
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    before = len(mail.outbox)
    assert attendance_sweep()["asked"] == 1
    asked = mail.outbox[before:]
    [to_hana] = [m for m in asked if hana.user.email in m.to]

    # Hana follows her one-click link and says yes: one side is not enough.
    advocate_page.goto(link_in(to_hana, r"/reference/call/"))
    expect(advocate_page.get_by_role("heading", name="Did your call happen?")).to_be_visible()
    j.step(advocate_page, "advocate asked did it happen", **phone)
    advocate_page.get_by_role("button", name="Yes, we talked").click()
    expect(advocate_page.locator(".messages")).to_contain_text("your answer is recorded")
    assert Ask.objects.get().status == Ask.Status.ACCEPTED
    assert Advocate.objects.get(pk=hana.pk).balance == 0

    # Percy confirms on his call page: now, and only now, the call counts.
    prospect.reload()
    expect(prospect.get_by_role("heading", name="Did the call happen?")).to_be_visible()
    j.step(prospect, "prospect asked did it happen", **phone)
    prospect.get_by_role("button", name="Yes, we talked").click()
    expect(prospect.locator(".messages")).to_contain_text("your answer is recorded")
    j.step(prospect, "prospect confirmed", **phone)
    assert Ask.objects.get().status == Ask.Status.COMPLETED
    assert ReferenceRequest.objects.get().status == ReferenceRequest.Status.COMPLETED
    assert Advocate.objects.get(pk=hana.pk).balance == call_points()
