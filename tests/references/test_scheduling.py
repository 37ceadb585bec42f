"""Scheduling an agreed call: offered times, the prospect's pick, .ics invitations, moves,
cancellations and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from core.timezones import WallTimeError, wall_to_utc
from references import links, services
from references.models import Ask, Meeting, ReferenceRequest
from references.tasks import meetings_due
from tests.references.factories import AskFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def _walls(*days: int, hour: int = 10) -> tuple[datetime, ...]:
    """Naive wall times ``days`` from today at ``hour``:00."""
    today = timezone.now().date()
    return tuple(
        datetime.combine(today + timedelta(days=d), datetime.min.time()).replace(hour=hour)
        for d in days
    )


@pytest.fixture
def accepted(advocate, rep):
    request = ReferenceRequestFactory(
        rep=rep, status=ReferenceRequest.Status.SCHEDULED, link_nonce="n"
    )
    ask = AskFactory(request=request, advocate=advocate, status=Ask.Status.ACCEPTED)
    return request, ask


def _offer(ask, advocate, walls=None, **extra) -> Meeting:
    offer = services.Offer(
        time_zone=extra.pop("time_zone", BERLIN),
        slots=walls if walls is not None else _walls(3, 4, 5),
        video_url=extra.pop("video_url", "https://meet.example.com/abc-defg"),
        **extra,
    )
    return services.meeting_offer(ask_id=ask.pk, advocate=advocate, offer=offer)


def _call_url(request) -> str:
    return reverse(
        "references:prospect_call",
        kwargs={"pk": request.pk, "token": links.prospect_token(request, purpose=links.CALL_SALT)},
    )


def _invites(to: str) -> list[Calendar]:
    found = []
    for message in mail.outbox:
        if to not in message.to:
            continue
        for _name, content, mimetype in message.attachments:
            if mimetype.startswith("text/calendar"):
                found.append(Calendar.from_ical(content))
    return found


def _event(calendar: Calendar):
    return next(iter(calendar.walk("VEVENT")))


# --- Wall times and clock changes ---------------------------------------------------------


def test_wall_times_around_berlins_october_change_convert_to_the_right_utc_instant() -> None:
    # Sunday 31 October 2027: 03:00 CEST becomes 02:00 CET.
    assert wall_to_utc(datetime(2027, 10, 30, 10, 0), BERLIN) == datetime(
        2027, 10, 30, 8, 0, tzinfo=UTC
    )
    assert wall_to_utc(datetime(2027, 10, 31, 10, 0), BERLIN) == datetime(
        2027, 10, 31, 9, 0, tzinfo=UTC
    )
    with pytest.raises(WallTimeError, match="happens twice"):
        wall_to_utc(datetime(2027, 10, 31, 2, 30), BERLIN)


def test_wall_times_around_new_yorks_march_change_convert_and_the_gap_is_refused() -> None:
    # Sunday 14 March 2027: 02:00 EST jumps to 03:00 EDT.
    assert wall_to_utc(datetime(2027, 3, 13, 10, 0), NEW_YORK) == datetime(
        2027, 3, 13, 15, 0, tzinfo=UTC
    )
    assert wall_to_utc(datetime(2027, 3, 14, 10, 0), NEW_YORK) == datetime(
        2027, 3, 14, 14, 0, tzinfo=UTC
    )
    with pytest.raises(WallTimeError, match="does not exist"):
        wall_to_utc(datetime(2027, 3, 14, 2, 30), NEW_YORK)


def test_an_offer_with_a_time_in_a_clock_change_gap_is_refused_and_saves_nothing(
    accepted, advocate
) -> None:
    _request, ask = accepted
    walls = (datetime(2027, 3, 14, 2, 30), *_walls(3, 4))
    with pytest.raises(services.ReferenceError, match="does not exist in America/New_York"):
        _offer(ask, advocate, walls, time_zone=NEW_YORK)
    assert not Meeting.objects.exists()


# --- Offering times ------------------------------------------------------------------------


def test_fewer_than_three_times_or_a_past_time_is_refused(accepted, advocate) -> None:
    _request, ask = accepted
    with pytest.raises(services.ReferenceError, match="at least 3"):
        _offer(ask, advocate, _walls(3, 4))
    with pytest.raises(services.ReferenceError, match="already passed"):
        _offer(ask, advocate, (*_walls(3, 4), *_walls(-1)))
    assert not Meeting.objects.exists()


def test_the_advocate_offers_times_in_their_timezone_and_the_prospect_is_emailed(
    advocate_client, accepted, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask = accepted
    walls = _walls(3, 4, 5, hour=15)
    data = {
        "time_zone": NEW_YORK,
        "duration_minutes": 30,
        "video_url": "https://meet.example.com/abc",
        **{f"slot_{i}": wall.strftime("%Y-%m-%dT%H:%M") for i, wall in enumerate(walls, 1)},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = advocate_client.post(reverse("references:ask_call", args=[ask.pk]), data)
    assert response.status_code == 302
    meeting = Meeting.objects.get(ask=ask)
    assert meeting.status == Meeting.Status.PROPOSED
    assert [slot.starts_at for slot in meeting.slots.all()] == [
        wall_to_utc(wall, NEW_YORK) for wall in walls
    ]
    advocate.refresh_from_db()
    assert advocate.time_zone == NEW_YORK  # remembered for next time
    (message,) = mail.outbox
    assert message.to == [request.prospect_email]
    assert "/call/" in message.body


def test_an_offer_form_with_a_bad_video_link_changes_nothing(advocate_client, accepted) -> None:
    _request, ask = accepted
    data = {
        "time_zone": BERLIN,
        "duration_minutes": 30,
        "video_url": "http://insecure.example.com/x",
        **{f"slot_{i}": w.strftime("%Y-%m-%dT%H:%M") for i, w in enumerate(_walls(3, 4, 5), 1)},
    }
    response = advocate_client.post(reverse("references:ask_call", args=[ask.pk]), data)
    assert response.status_code == 400
    assert "https://" in response.content.decode()
    assert not Meeting.objects.exists()


# --- The prospect's pick and the invitations -------------------------------------------------


def test_the_prospect_picks_a_time_and_all_three_get_the_same_invitation(
    client, accepted, advocate, rep, django_capture_on_commit_callbacks
) -> None:
    request, ask = accepted
    meeting = _offer(ask, advocate)
    slot = meeting.slots.all()[1]
    url = _call_url(request)
    page = client.get(url + "?tz=Asia/Tokyo").content.decode()
    # Shown in the prospect's own timezone.
    assert slot.starts_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"slot": slot.pk, "tz": "Asia/Tokyo"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.starts_at, meeting.sequence) == (
        Meeting.Status.SCHEDULED,
        slot.starts_at,
        0,
    )
    assert meeting.prospect_time_zone == "Asia/Tokyo"
    uids = set()
    for address in (request.prospect_email, advocate.user.email, rep.email):
        (calendar,) = _invites(address)
        event = _event(calendar)
        assert calendar["METHOD"] == "REQUEST"
        assert event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == slot.starts_at
        assert event.decoded("DTEND") == slot.starts_at + timedelta(minutes=30)
        assert "https://meet.example.com/abc-defg" in str(event["DESCRIPTION"])
        assert str(event["LOCATION"]) == "https://meet.example.com/abc-defg"
        attendees = {str(a) for a in event["ATTENDEE"]}
        assert f"mailto:{request.prospect_email}" in attendees
        uids.add(str(event["UID"]))
    assert uids == {meeting.uid}
    # The prospect's email shows the time in their timezone.
    prospect_mail = next(m for m in mail.outbox if m.to == [request.prospect_email])
    assert "Asia/Tokyo" in prospect_mail.subject


def test_a_past_slot_cannot_be_picked(client, accepted, advocate) -> None:
    request, ask = accepted
    meeting = _offer(ask, advocate)
    slot = meeting.slots.first()
    later = slot.starts_at + timedelta(minutes=1)
    with pytest.raises(services.ReferenceError, match="already passed"):
        services.meeting_pick(request=request, slot_id=slot.pk, now=later)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PROPOSED


def test_a_forged_or_foreign_call_link_gets_a_clear_message_and_changes_nothing(
    client, accepted, advocate
) -> None:
    request, ask = accepted
    meeting = _offer(ask, advocate)
    slot = meeting.slots.first()
    forged = reverse("references:prospect_call", kwargs={"pk": request.pk, "token": "abc:def"})
    response = client.post(forged, {"slot": slot.pk})
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    # The choice link is signed for another purpose: it opens no call page.
    choice_token = links.prospect_token(request)
    response = client.post(
        reverse("references:prospect_call", kwargs={"pk": request.pk, "token": choice_token}),
        {"slot": slot.pk},
    )
    assert response.status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PROPOSED


# --- Moves, cancellations, reminders ------------------------------------------------------


def test_a_move_and_a_cancellation_keep_the_uid_and_raise_the_sequence(
    client, rep_client, accepted, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask = accepted
    meeting = _offer(ask, advocate)
    first, second, _third = meeting.slots.all()
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_pick(request=request, slot_id=first.pk)
    mail.outbox.clear()
    # The prospect moves it to another offered time on their page.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_call_url(request), {"slot": second.pk})
    (moved,) = _invites(advocate.user.email)
    assert str(_event(moved)["UID"]) == meeting.uid
    assert _event(moved)["SEQUENCE"] == 1
    assert _event(moved).decoded("DTSTART") == second.starts_at
    mail.outbox.clear()
    # The rep cancels it.
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(reverse("references:request_meeting_cancel", args=[request.pk]))
    (cancelled,) = _invites(request.prospect_email)
    assert cancelled["METHOD"] == "CANCEL"
    assert str(_event(cancelled)["UID"]) == meeting.uid
    assert _event(cancelled)["SEQUENCE"] == 2
    assert str(_event(cancelled)["STATUS"]) == "CANCELLED"
    # The acceptance stands: the advocate may offer new times (a new meeting).
    assert _offer(ask, advocate).uid != meeting.uid


def test_the_advocate_moves_the_call_to_a_new_time_in_their_timezone(
    advocate_client, accepted, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask = accepted
    meeting = _offer(ask, advocate)
    services.meeting_pick(request=request, slot_id=meeting.slots.first().pk)
    (new_wall,) = _walls(6, hour=16)
    with django_capture_on_commit_callbacks(execute=True):
        advocate_client.post(
            reverse("references:ask_call_time", args=[ask.pk]),
            {"when": new_wall.strftime("%Y-%m-%dT%H:%M"), "time_zone": BERLIN},
        )
    meeting.refresh_from_db()
    assert meeting.starts_at == wall_to_utc(new_wall, BERLIN)
    assert meeting.sequence == 1
    assert _event(_invites(request.prospect_email)[-1])["SEQUENCE"] == 1


def test_a_booking_page_instead_of_times_then_the_rep_records_the_booked_time(
    rep_client, accepted, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask = accepted
    with pytest.raises(services.ReferenceError, match="https"):
        _offer(ask, advocate, (), booking_url="http://cal.example.com/me")
    with django_capture_on_commit_callbacks(execute=True):
        meeting = _offer(ask, advocate, (), booking_url="https://cal.example.com/me")
    assert meeting.status == Meeting.Status.BOOKING
    assert "https://cal.example.com/me" in mail.outbox[0].body
    (wall,) = _walls(5, hour=9)
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(
            reverse("references:request_meeting_time", args=[request.pk]),
            {"when": wall.strftime("%Y-%m-%dT%H:%M"), "time_zone": NEW_YORK},
        )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.starts_at == wall_to_utc(wall, NEW_YORK)
    assert _invites(request.prospect_email)


def test_reminders_go_out_once_each_even_on_two_beats_and_a_move_resets_them(
    accepted, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask = accepted
    meeting = _offer(ask, advocate)
    slot = meeting.slots.first()
    services.meeting_pick(request=request, slot_id=slot.pk)
    mail.outbox.clear()
    day_before = slot.starts_at - timedelta(hours=23)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_due(now=day_before) == 1
        assert services.reminders_due(now=day_before) == 0  # the second beat
    assert {m.to[0] for m in mail.outbox} == {
        request.prospect_email,
        advocate.user.email,
        request.rep.email,
    }
    assert all("Tomorrow" in m.subject for m in mail.outbox)
    hour_before = slot.starts_at - timedelta(minutes=50)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_due(now=hour_before) == 1
        assert services.reminders_due(now=hour_before) == 0
    assert len(mail.outbox) == 3
    assert all("In an hour" in m.subject for m in mail.outbox)
    # Moved to a later slot: both reminders are due again.
    later = meeting.slots.last()
    services.meeting_pick(request=request, slot_id=later.pk, now=day_before)
    meeting.refresh_from_db()
    assert (meeting.reminder_24h_at, meeting.reminder_1h_at) == (None, None)


def test_the_beat_task_runs_with_nothing_due() -> None:
    assert meetings_due() == {"reminders": 0, "asked": 0, "settled": 0}


def test_a_request_asked_directly_gets_a_working_call_page_on_acceptance(
    client, advocate, rep
) -> None:
    advocate.reference_opt_in = True
    advocate.save()
    request = ReferenceRequestFactory(rep=rep)  # no prospect link was ever sent
    ask = services.request_ask_directly(request=request, advocate_id=advocate.pk)
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
    request.refresh_from_db()
    _offer(ask, advocate)
    response = client.get(links.prospect_call_url(request).removeprefix(settings.SITE_URL))
    assert response.status_code == 200
    assert "Pick a time that suits you" in response.content.decode()


def test_each_person_gets_the_invitation_in_their_language_with_one_uid(
    client, accepted, advocate, rep, django_capture_on_commit_callbacks
) -> None:
    advocate.user.language = "es"
    advocate.user.save(update_fields=["language"])
    request, ask = accepted
    meeting = _offer(ask, advocate)
    slot = meeting.slots.first()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_call_url(request), {"slot": slot.pk, "tz": BERLIN})
    by_address = {m.to[0]: m for m in mail.outbox if m.attachments}
    spanish, english = by_address[advocate.user.email], by_address[rep.email]
    with translation.override("es"):
        subject = translation.gettext("Reference call, %(when)s (%(tz)s)")
    opening = subject.split("%")[0]  # "Llamada de referencia, "
    assert opening
    assert not opening.startswith("Reference call")
    assert spanish.subject.startswith(opening)
    assert english.subject.startswith("Reference call, ")
    (spanish_event,) = [_event(c) for c in _invites(advocate.user.email)]
    (english_event,) = [_event(c) for c in _invites(rep.email)]
    assert str(spanish_event["UID"]) == str(english_event["UID"]) == meeting.uid
    assert str(spanish_event["SUMMARY"]) != str(english_event["SUMMARY"])
