"""A booked call's Zoom meeting: made when the prospect picks a time, moved with the call,
deleted when it is cancelled; a Zoom failure leaves the call booked without a link.

``references.zoom`` (tested against recorded Zoom exchanges in test_zoom.py) is replaced
here by a stand-in that records what it was asked: these tests are about what scheduling
does with its answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from references import services, zoom
from references.models import Ask, Meeting, ReferenceRequest
from tests.references.factories import AskFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db


class FakeZoom:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fail: zoom.ZoomError | None = None

    def create(self, *, topic, start, duration_minutes, timezone):
        self.calls.append(("create", start, duration_minutes, timezone))
        if self.fail:
            raise self.fail
        return zoom.ZoomMeeting(id="85746065432", join_url="https://us05web.zoom.us/j/85746065432")

    def update(self, *, meeting_id, start, duration_minutes, timezone):
        self.calls.append(("update", meeting_id, start))

    def delete(self, *, meeting_id):
        self.calls.append(("delete", meeting_id))


@pytest.fixture
def fake_zoom(monkeypatch, settings) -> FakeZoom:
    settings.ZOOM_ACCOUNT_ID = "account"
    settings.ZOOM_CLIENT_ID = "client"
    settings.ZOOM_CLIENT_SECRET = "secret"
    settings.ZOOM_HOST_USER = "host@example.com"
    fake = FakeZoom()
    monkeypatch.setattr(zoom, "meeting_create", fake.create)
    monkeypatch.setattr(zoom, "meeting_update", fake.update)
    monkeypatch.setattr(zoom, "meeting_delete", fake.delete)
    return fake


@pytest.fixture
def zoom_offer(advocate, rep):
    request = ReferenceRequestFactory(
        rep=rep, status=ReferenceRequest.Status.SCHEDULED, link_nonce="n"
    )
    ask = AskFactory(request=request, advocate=advocate, status=Ask.Status.ACCEPTED)
    today = timezone.localdate()
    walls = tuple(
        datetime.combine(today + timedelta(days=d), datetime.min.time()).replace(hour=10)
        for d in (3, 4, 5)
    )
    return request, ask, walls


def _offer(ask, advocate, walls) -> Meeting:
    offer = services.Offer(time_zone="Europe/Berlin", slots=walls, video=Meeting.Video.ZOOM)
    return services.meeting_offer(ask_id=ask.pk, advocate=advocate, offer=offer)


def test_zoom_is_offered_only_when_connected(advocate_client, zoom_offer, advocate) -> None:
    _request, ask, walls = zoom_offer
    page = advocate_client.get(reverse("references:ask_call", args=[ask.pk])).content.decode()
    assert "Create a Zoom meeting" not in page
    with pytest.raises(services.ReferenceError, match="Zoom is not connected"):
        _offer(ask, advocate, walls)


def test_a_pick_makes_the_zoom_meeting_and_an_update_carries_its_link(
    fake_zoom, zoom_offer, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask, walls = zoom_offer
    meeting = _offer(ask, advocate, walls)
    slot = meeting.slots.first()
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_pick(request=request, slot_id=slot.pk)
    assert fake_zoom.calls == [("create", slot.starts_at, 30, "Europe/Berlin")]
    meeting.refresh_from_db()
    assert meeting.video_url == "https://us05web.zoom.us/j/85746065432"
    assert meeting.sequence == 1
    sent = [
        Calendar.from_ical(content)
        for m in mail.outbox
        if m.to == [request.prospect_email]
        for _n, content, _t in m.attachments
    ]
    assert [next(iter(c.walk("VEVENT")))["SEQUENCE"] for c in sent] == [0, 1]
    latest = next(iter(sent[-1].walk("VEVENT")))
    assert str(latest["LOCATION"]) == meeting.video_url
    assert str(latest["UID"]) == meeting.uid
    # Moved: the same Zoom meeting moves; cancelled: it is deleted.
    later = meeting.slots.last()
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_pick(request=request, slot_id=later.pk)
    assert fake_zoom.calls[-1] == ("update", "85746065432", later.starts_at)
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_cancel(request=request, by="advocate")
    assert fake_zoom.calls[-1] == ("delete", "85746065432")
    meeting.refresh_from_db()
    assert meeting.zoom_meeting_id == ""


def test_a_zoom_failure_leaves_the_call_booked_without_a_link_and_says_so(
    fake_zoom, advocate_client, zoom_offer, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask, walls = zoom_offer
    fake_zoom.fail = zoom.ZoomError("Zoom refused the host user: check ZOOM_HOST_USER.", status=404)
    meeting = _offer(ask, advocate, walls)
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_pick(request=request, slot_id=meeting.slots.first().pk)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.video_url) == (Meeting.Status.SCHEDULED, "")
    assert "ZOOM_HOST_USER" in meeting.zoom_error
    page = advocate_client.get(reverse("references:ask_call", args=[ask.pk])).content.decode()
    assert "could not be created" in page
