"""Attendance: after a call booked in Vouch, each side says whether it happened.

The call counts (cap, points, influenced revenue) when the advocate and the prospect
both say yes, or when the rep says yes and nobody says no within the program's
dispute days. A yes and a no is a dispute for a manager to rule on. Both sides saying
no (or a lone no left unanswered for the dispute days) means it did not happen.
Counting goes through ``calls.call_settle``, the one place a call counts, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import User
from core.audit import audit_record
from core.outbox import enqueue_after_commit
from references.models import Ask, MatchingWeights, Meeting
from references.services.base import ReferenceError, request_locked
from references.services.calls import call_settle

SIDES = ("advocate", "prospect", "rep")


def _answers(meeting: Meeting) -> dict[str, bool]:
    found = {side: getattr(meeting, f"{side}_attended") for side in SIDES}
    return {side: value for side, value in found.items() if value is not None}


def _settle(meeting: Meeting, *, held: bool, now: datetime, state: str) -> None:
    """Count (or not) the call of the locked meeting, through the one counting place."""
    ask = Ask.objects.select_related("advocate__user").get(pk=meeting.ask_id)
    request = ask.request
    call_settle(request=request, ask=ask, completed=held, at=meeting.starts_at or now)
    meeting.attendance = state
    meeting.settled_at = now
    meeting.save(update_fields=["attendance", "settled_at", "resolved_by"])


def _decide(meeting: Meeting, *, now: datetime, dispute_days: int) -> str:
    """Apply the counting rule to the locked meeting's answers; returns its attendance."""
    if meeting.attendance != Meeting.Attendance.OPEN:
        return meeting.attendance
    answers = _answers(meeting)
    yes = [side for side, held in answers.items() if held]
    no = [side for side, held in answers.items() if not held]
    window = timedelta(days=dispute_days)
    if yes and no:
        meeting.attendance = Meeting.Attendance.DISPUTED
        meeting.settled_at = now
        meeting.save(update_fields=["attendance", "settled_at"])  # the managers' queue
    elif answers.get("advocate") and answers.get("prospect"):
        _settle(meeting, held=True, now=now, state=Meeting.Attendance.COUNTED)
    elif (
        answers.get("rep")
        and meeting.rep_answered_at is not None
        and meeting.rep_answered_at + window <= now
    ):
        # The rep said yes and nobody disputed it in time.
        _settle(meeting, held=True, now=now, state=Meeting.Attendance.COUNTED)
    elif (answers.get("advocate") is False and answers.get("prospect") is False) or (
        no and not yes and meeting.ends_at is not None and meeting.ends_at + window <= now
    ):
        _settle(meeting, held=False, now=now, state=Meeting.Attendance.NOT_HELD)
    return meeting.attendance


def attendance_answer(
    *, meeting_id: int, side: str, held: bool, now: datetime | None = None
) -> Meeting:
    """One side says whether the call happened; it may change its answer until settled."""
    now = now or timezone.now()
    if side not in SIDES:
        raise ValueError(side)
    request_id = (
        Meeting.objects.filter(pk=meeting_id).values_list("ask__request_id", flat=True).first()
    )
    if request_id is None:
        raise Meeting.DoesNotExist
    with transaction.atomic():
        request_locked(request_id)
        meeting = Meeting.objects.select_for_update().get(pk=meeting_id)
        if meeting.status != Meeting.Status.SCHEDULED or meeting.starts_at is None:
            raise ReferenceError(_("This call was not held through Vouch, or it was cancelled."))
        if meeting.starts_at > now:
            raise ReferenceError(_("The call has not started yet: come back after it."))
        if meeting.attendance != Meeting.Attendance.OPEN:
            labels: dict[str, str] = {
                Meeting.Attendance.COUNTED: _("it took place"),
                Meeting.Attendance.NOT_HELD: _("it did not take place"),
                Meeting.Attendance.DISPUTED: _("the answers differ, and a manager will decide"),
            }
            raise ReferenceError(
                _("Thank you: this call is already settled (%(state)s).")
                % {"state": labels[meeting.attendance]}
            )
        setattr(meeting, f"{side}_attended", held)
        setattr(meeting, f"{side}_answered_at", now)
        meeting.save(update_fields=[f"{side}_attended", f"{side}_answered_at"])
        _decide(meeting, now=now, dispute_days=MatchingWeights.current().dispute_days)
    return meeting


def attendance_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: ask both sides after each call ends; count calls whose dispute days passed.

    Safe on two beats: asking is claimed by a conditional update of its marker, and
    settling runs under the request's row lock and re-checks the meeting.
    """
    now = now or timezone.now()
    dispute_days = MatchingWeights.current().dispute_days
    asked = 0
    ended = Meeting.objects.filter(
        status=Meeting.Status.SCHEDULED,
        attendance=Meeting.Attendance.OPEN,
        attendance_asked_at__isnull=True,
        starts_at__lte=now - timedelta(minutes=15),
    ).values_list("pk", "starts_at", "duration_minutes")
    for meeting_id, starts_at, minutes in ended:
        if starts_at is None or starts_at + timedelta(minutes=minutes) > now:
            continue
        with transaction.atomic():
            claimed = Meeting.objects.filter(
                pk=meeting_id, attendance_asked_at__isnull=True
            ).update(attendance_asked_at=now)
            if claimed:
                enqueue_after_commit("references.tasks.meeting_attendance_ask_send", meeting_id)
        asked += claimed
    window_start = now - timedelta(days=dispute_days)
    waiting = Meeting.objects.filter(
        Q(rep_attended=True, rep_answered_at__lte=window_start)
        | Q(starts_at__lte=window_start)
        & (Q(advocate_attended=False) | Q(prospect_attended=False) | Q(rep_attended=False)),
        status=Meeting.Status.SCHEDULED,
        attendance=Meeting.Attendance.OPEN,
    ).values_list("pk", "ask__request_id")
    settled = 0
    for meeting_id, request_id in waiting:
        with transaction.atomic():
            request_locked(request_id)
            meeting = Meeting.objects.select_for_update().get(pk=meeting_id)
            if _decide(meeting, now=now, dispute_days=dispute_days) != Meeting.Attendance.OPEN:
                settled += 1
    return {"asked": asked, "settled": settled}


def dispute_resolve(*, meeting_id: int, by: User, held: bool, note: str = "") -> Meeting:
    """A manager rules on a disputed call: it counts, or it does not (audited)."""
    request_id = (
        Meeting.objects.filter(pk=meeting_id).values_list("ask__request_id", flat=True).first()
    )
    if request_id is None:
        raise Meeting.DoesNotExist
    now = timezone.now()
    with transaction.atomic():
        request_locked(request_id)
        meeting = Meeting.objects.select_for_update().get(pk=meeting_id)
        if meeting.attendance != Meeting.Attendance.DISPUTED:
            raise ReferenceError(_("This call is no longer disputed: someone ruled on it already."))
        meeting.resolved_by = by
        _settle(
            meeting,
            held=held,
            now=now,
            state=Meeting.Attendance.COUNTED if held else Meeting.Attendance.NOT_HELD,
        )
        audit_record(
            actor=by,
            action="reference.dispute_resolve",
            target=meeting,
            detail={
                "held": held,
                "note": note.strip()[:300],
                "answers": _answers(meeting),
                "request": request_id,
            },
        )
    return meeting
