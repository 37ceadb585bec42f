"""Attendance: after a call booked in Vouch, it counts only when both sides confirm, or
the rep confirms and nobody disputes it in time; disputes go to the managers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from references import links, selectors, services
from references.matching import guard
from references.models import Ask, MatchingWeights, Meeting, ReferenceRequest
from rewards.models import LedgerEntry
from tests.references.factories import AskFactory, MeetingFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(advocate, rep):
    """A call booked in Vouch that started an hour ago and has ended."""
    request = ReferenceRequestFactory(
        rep=rep, status=ReferenceRequest.Status.SCHEDULED, link_nonce="n"
    )
    ask = AskFactory(request=request, advocate=advocate, status=Ask.Status.ACCEPTED)
    meeting = MeetingFactory(
        ask=ask,
        status=Meeting.Status.SCHEDULED,
        starts_at=timezone.now() - timedelta(hours=1),
        mailed_sequence=0,
    )
    return request, ask, meeting


def _counted(advocate, ask) -> bool:
    ask.refresh_from_db()
    advocate.refresh_from_db()
    return ask.status == Ask.Status.COMPLETED


def _attendance_url(meeting, side: str) -> str:
    return reverse(
        "references:attendance",
        kwargs={"pk": meeting.pk, "token": links.attendance_token(meeting, side)},
    )


def test_after_the_call_both_sides_get_a_one_click_question_once(
    held, advocate, django_capture_on_commit_callbacks
) -> None:
    request, _ask, _meeting = held
    with django_capture_on_commit_callbacks(execute=True):
        assert services.attendance_sweep()["asked"] == 1
        assert services.attendance_sweep()["asked"] == 0  # a second beat
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [request.prospect_email, advocate.user.email]
    )
    body = next(m for m in mail.outbox if m.to == [request.prospect_email]).body
    assert "?held=yes" in body
    assert "?held=no" in body


def test_the_call_counts_only_when_both_confirm_and_only_once(
    client, advocate_client, held, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask, meeting = held
    # The prospect opens the one-click link: a GET records nothing (mail scanners).
    url = _attendance_url(meeting, "prospect")
    assert client.get(url + "?held=yes").status_code == 200
    meeting.refresh_from_db()
    assert meeting.prospect_attended is None
    client.post(url, {"held": "yes"})
    assert not _counted(advocate, ask)  # one side is not enough
    assert guard.advocate_load(advocate.pk) == 1  # still reserved as in flight
    with django_capture_on_commit_callbacks(execute=True):
        advocate_client.post(
            reverse("references:ask_call_attended", args=[ask.pk]), {"held": "yes"}
        )
    assert _counted(advocate, ask)
    assert advocate.balance == services.call_points()
    request.refresh_from_db()
    assert request.status == ReferenceRequest.Status.COMPLETED
    assert request.completed_at == meeting.starts_at  # the cap's 90 days run from the call
    meeting.refresh_from_db()
    assert meeting.attendance == Meeting.Attendance.COUNTED
    # Answering again, or the rep's manual button, counts nothing more.
    response = client.post(url, {"held": "yes"}, follow=True)
    assert "already settled" in response.content.decode()
    with pytest.raises(services.ReferenceError):
        services.call_record(request=request, completed=True)
    assert LedgerEntry.objects.filter(advocate=advocate).count() == 1


def test_the_reps_click_alone_does_not_count_a_call_booked_in_vouch(
    rep_client, held, advocate
) -> None:
    request, ask, _meeting = held
    response = rep_client.post(
        reverse("references:request_call", args=[request.pk]), {"outcome": "done"}, follow=True
    )
    assert "booked in Vouch" in response.content.decode()
    assert not _counted(advocate, ask)


def test_the_rep_confirms_and_nobody_disputes_within_the_dispute_days(
    rep_client, held, advocate, django_capture_on_commit_callbacks
) -> None:
    _request, ask, meeting = held
    rep_client.post(
        reverse("references:request_meeting_attended", args=[_request.pk]), {"held": "yes"}
    )
    assert not _counted(advocate, ask)
    days = MatchingWeights.current().dispute_days
    meeting.refresh_from_db()
    early = meeting.rep_answered_at + timedelta(days=days) - timedelta(minutes=1)
    assert services.attendance_sweep(now=early)["settled"] == 0
    late = meeting.rep_answered_at + timedelta(days=days)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.attendance_sweep(now=late)["settled"] == 1
        assert services.attendance_sweep(now=late)["settled"] == 0
    assert _counted(advocate, ask)
    assert advocate.balance == services.call_points()


def test_a_yes_and_a_no_is_a_dispute_that_a_manager_rules_on(
    client, rep_client, manager_client, manager, held, advocate
) -> None:
    request, ask, meeting = held
    rep_client.post(
        reverse("references:request_meeting_attended", args=[request.pk]), {"held": "yes"}
    )
    client.post(_attendance_url(meeting, "prospect"), {"held": "no"})
    meeting.refresh_from_db()
    assert meeting.attendance == Meeting.Attendance.DISPUTED
    # The rep's yes does not ripen into a count while it is disputed.
    services.attendance_sweep(now=timezone.now() + timedelta(days=30))
    assert not _counted(advocate, ask)
    page = manager_client.get(reverse("references:disputes")).content.decode()
    assert request.prospect_name in page
    url = reverse("references:dispute_resolve", args=[meeting.pk])
    manager_client.post(url, {"held": "yes", "note": "Recording seen"})
    assert _counted(advocate, ask)
    entry = AuditEntry.objects.get(action="reference.dispute_resolve")
    assert (entry.actor, entry.detail["held"], entry.detail["note"]) == (
        manager,
        True,
        "Recording seen",
    )
    # A second ruling changes nothing.
    response = manager_client.post(url, {"held": "no"}, follow=True)
    assert "no longer disputed" in response.content.decode()
    assert LedgerEntry.objects.filter(advocate=advocate).count() == 1


def test_both_sides_saying_no_means_no_points_and_a_free_slot(client, held, advocate) -> None:
    _request, ask, meeting = held
    services.attendance_answer(meeting_id=meeting.pk, side="advocate", held=False)
    client.post(_attendance_url(meeting, "prospect"), {"held": "no"})
    ask.refresh_from_db()
    assert ask.status == Ask.Status.NO_SHOW
    assert guard.advocate_load(advocate.pk) == 0
    assert not LedgerEntry.objects.filter(advocate=advocate).exists()


def test_attendance_before_the_call_or_with_a_forged_link_changes_nothing(
    client, held, advocate
) -> None:
    _request, _ask, meeting = held
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(services.ReferenceError, match="not started"):
        services.attendance_answer(meeting_id=meeting.pk, side="advocate", held=True)
    token = links.attendance_token(meeting, "prospect")
    forged = reverse("references:attendance", kwargs={"pk": meeting.pk, "token": token[:-2] + "xx"})
    response = client.post(forged, {"held": "yes"})
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    # A link for another meeting does not open this one.
    other = MeetingFactory(status=Meeting.Status.SCHEDULED, starts_at=timezone.now())
    response = client.post(
        reverse(
            "references:attendance",
            kwargs={"pk": meeting.pk, "token": links.attendance_token(other, "prospect")},
        ),
        {"held": "yes"},
    )
    assert response.status_code == 404
    meeting.refresh_from_db()
    assert meeting.prospect_attended is None


def test_the_dispute_queue_reads_in_a_fixed_number_of_queries(
    manager_client, django_assert_max_num_queries
) -> None:
    for _ in range(4):
        MeetingFactory(
            status=Meeting.Status.SCHEDULED,
            starts_at=timezone.now() - timedelta(days=1),
            attendance=Meeting.Attendance.DISPUTED,
            settled_at=timezone.now(),
        )
    assert selectors.disputes().count() == 4
    with django_assert_max_num_queries(12):
        response = manager_client.get(reverse("references:disputes"))
    assert response.status_code == 200
