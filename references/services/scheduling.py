"""Scheduling the agreed call: the advocate offers times (or a booking page), the
prospect picks one, either side moves or cancels it; reminders before it.

Every booking, move and cancellation raises the meeting's SEQUENCE and mails an .ics
with the same UID to the advocate, the prospect and the rep (references.emails).
Slots are stored in UTC; the advocate enters wall times in their own timezone and the
prospect sees them in theirs (core.timezones).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Advocate
from core import events
from core.i18n import with_weekday
from core.outbox import enqueue_after_commit
from core.timezones import WallTimeError, wall_to_utc, zone_or_default, zone_valid
from references import zoom
from references.models import Ask, Meeting, MeetingSlot, ReferenceRequest
from references.services.base import ReferenceError, request_locked

MIN_SLOTS = 3
MAX_SLOTS = 6
REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))
SIDES = ("advocate", "prospect", "rep")


@dataclass(frozen=True)
class Offer:
    """What the advocate offers: wall times in ``time_zone``, or a booking page."""

    time_zone: str
    slots: tuple[datetime, ...] = ()
    booking_url: str = ""
    video: str = Meeting.Video.LINK
    video_url: str = ""
    duration_minutes: int = 30


def _uid() -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "vouch"
    return f"{uuid.uuid4().hex}@{host}"


def slots_to_utc(walls: list[datetime], time_zone: str, *, now: datetime) -> list[datetime]:
    """Wall times in ``time_zone`` as sorted, distinct UTC instants, each in the future."""
    if not zone_valid(time_zone):
        raise ReferenceError(_("Pick your timezone from the list."))
    instants = []
    for wall in walls:
        try:
            instant = wall_to_utc(wall, time_zone)
        except WallTimeError as error:
            raise ReferenceError(str(error)) from None
        if instant <= now:
            raise ReferenceError(
                _("%(time)s has already passed in %(zone)s: offer a later time.")
                % {"time": with_weekday(wall), "zone": time_zone}
            )
        instants.append(instant)
    return sorted(set(instants))


def _live_meeting(ask: Ask) -> Meeting | None:
    return (
        Meeting.objects.select_for_update()
        .filter(ask=ask, status__in=Meeting.LIVE)
        .order_by("-id")
        .first()
    )


def _accepted_ask(request: ReferenceRequest) -> Ask:
    ask = request.asks.select_related("advocate__user").filter(status=Ask.Status.ACCEPTED).first()
    if ask is None or request.status != ReferenceRequest.Status.SCHEDULED:
        raise ReferenceError(_("This request has no agreed call to schedule."))
    return ask


def _event(name: str, meeting: Meeting, request: ReferenceRequest, by: str) -> None:
    events.emit(
        name,
        {
            "meeting": meeting.uid,
            "ask": meeting.ask_id,
            "request": request.pk,
            "advocate": meeting.ask.advocate_id,
            "rep": request.rep_id,
            "prospect_company": request.prospect_company,
            "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None,
            "sequence": meeting.sequence,
            "by": by,
        },
    )


def meeting_offer(
    *, ask_id: int, advocate: Advocate, offer: Offer, now: datetime | None = None
) -> Meeting:
    """The advocate offers three or more times, or a booking page, for an accepted ask."""
    now = now or timezone.now()
    ask = Ask.objects.filter(pk=ask_id, advocate=advocate).first()
    if ask is None:
        raise Ask.DoesNotExist
    booking_url = offer.booking_url.strip()
    if booking_url and not booking_url.startswith("https://"):
        raise ReferenceError(_("A booking page link must start with https://."))
    video_url = offer.video_url.strip()
    if video_url and not video_url.startswith("https://"):
        raise ReferenceError(_("A video link must start with https://."))
    if offer.video == Meeting.Video.ZOOM and not zoom_available():
        raise ReferenceError(_("Zoom is not connected: paste a video link instead."))
    instants = [] if booking_url else slots_to_utc(list(offer.slots), offer.time_zone, now=now)
    if not booking_url and len(instants) < MIN_SLOTS:
        raise ReferenceError(
            _("Offer at least %(count)s different times, or link the booking page you use.")
            % {"count": MIN_SLOTS}
        )
    if len(instants) > MAX_SLOTS:
        raise ReferenceError(_("Offer at most %(count)s times.") % {"count": MAX_SLOTS})
    with transaction.atomic():
        request = request_locked(ask.request_id)
        ask = _accepted_ask(request)
        if ask.advocate_id != advocate.pk:
            raise Ask.DoesNotExist
        if _live_meeting(ask) is not None:
            raise ReferenceError(_("You already offered times for this call: move or cancel it."))
        try:
            with transaction.atomic():
                meeting = Meeting.objects.create(
                    ask=ask,
                    uid=_uid(),
                    status=Meeting.Status.BOOKING if booking_url else Meeting.Status.PROPOSED,
                    time_zone=offer.time_zone,
                    duration_minutes=offer.duration_minutes,
                    booking_url=booking_url,
                    video=offer.video,
                    video_url="" if offer.video == Meeting.Video.ZOOM else video_url,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            raise ReferenceError(_("Times were offered for this call a moment ago.")) from None
        MeetingSlot.objects.bulk_create(
            MeetingSlot(meeting=meeting, starts_at=instant) for instant in instants
        )
        if not advocate.time_zone and zone_valid(offer.time_zone):
            Advocate.objects.filter(pk=advocate.pk, time_zone="").update(time_zone=offer.time_zone)
        enqueue_after_commit("references.tasks.meeting_offer_send", meeting.pk)
    return meeting


def _reminders_reset(meeting: Meeting, now: datetime) -> None:
    """A new time: reminders are due again, except those whose moment has passed."""
    assert meeting.starts_at is not None
    for name, before in REMINDERS:
        passed = meeting.starts_at - before <= now
        setattr(meeting, f"reminder_{name}_at", now if passed else None)


def _book(meeting: Meeting, starts_at: datetime, *, now: datetime, by: str) -> Meeting:
    """Give the (locked) meeting its time: the first booking, or a move."""
    moving = meeting.status == Meeting.Status.SCHEDULED
    if moving and meeting.starts_at == starts_at:
        raise ReferenceError(_("The call is already at this time."))
    if moving and meeting.starts_at is not None and meeting.starts_at <= now:
        raise ReferenceError(_("The call has started: it can no longer be moved."))
    meeting.starts_at = starts_at
    if moving or meeting.mailed_sequence >= 0:
        meeting.sequence += 1
    meeting.status = Meeting.Status.SCHEDULED
    meeting.updated_at = now
    meeting.attendance_asked_at = None
    _reminders_reset(meeting, now)
    meeting.save()
    request = meeting.ask.request
    enqueue_after_commit("references.tasks.meeting_invite_send", meeting.pk, meeting.sequence)
    if meeting.video == Meeting.Video.ZOOM:
        enqueue_after_commit("references.tasks.meeting_zoom_sync", meeting.pk, meeting.sequence)
    _event(
        "reference.call_rescheduled" if moving else "reference.call_scheduled",
        meeting,
        request,
        by,
    )
    return meeting


def _meeting_for(
    request_id: int, meeting_id: int | None = None
) -> tuple[ReferenceRequest, Meeting]:
    """The request (locked) and its live meeting (locked)."""
    request = request_locked(request_id)
    ask = _accepted_ask(request)
    meeting = _live_meeting(ask)
    if meeting is None or (meeting_id is not None and meeting.pk != meeting_id):
        raise ReferenceError(_("This call has no times offered any more."))
    meeting.ask = ask
    ask.request = request
    return request, meeting


def meeting_pick(
    *,
    request: ReferenceRequest,
    slot_id: int,
    prospect_time_zone: str = "",
    now: datetime | None = None,
) -> Meeting:
    """The prospect picks one of the offered times (again, to move the call)."""
    now = now or timezone.now()
    with transaction.atomic():
        _request, meeting = _meeting_for(request.pk)
        if meeting.status == Meeting.Status.BOOKING:
            raise ReferenceError(_("Book a time on the advocate's booking page instead."))
        slot = meeting.slots.filter(pk=slot_id).first()
        if slot is None:
            raise ReferenceError(_("Pick one of the times on this page."))
        if slot.starts_at <= now:
            raise ReferenceError(_("This time has already passed: pick a later one."))
        if zone_valid(prospect_time_zone):
            meeting.prospect_time_zone = prospect_time_zone
        return _book(meeting, slot.starts_at, now=now, by="prospect")


def meeting_time_set(
    *,
    request: ReferenceRequest,
    wall: datetime,
    time_zone: str,
    by: str,
    now: datetime | None = None,
) -> Meeting:
    """The advocate or the rep enters the agreed time (after a booking page) or a new one."""
    now = now or timezone.now()
    if by not in ("advocate", "rep"):
        raise ValueError(by)
    (starts_at,) = slots_to_utc([wall], time_zone, now=now)
    with transaction.atomic():
        _request, meeting = _meeting_for(request.pk)
        MeetingSlot.objects.get_or_create(meeting=meeting, starts_at=starts_at)
        return _book(meeting, starts_at, now=now, by=by)


def meeting_cancel(*, request: ReferenceRequest, by: str, now: datetime | None = None) -> Meeting:
    """Cancel the booked call (or withdraw the times offered): a CANCEL .ics if it was booked.

    The advocate's acceptance stands, so new times can be offered afterwards.
    """
    now = now or timezone.now()
    if by not in SIDES:
        raise ValueError(by)
    with transaction.atomic():
        request, meeting = _meeting_for(request.pk)
        if (
            meeting.status == Meeting.Status.SCHEDULED
            and meeting.starts_at
            and meeting.starts_at <= now
        ):
            raise ReferenceError(
                _("The call's time has come: say whether it happened instead of cancelling it.")
            )
        was_booked = meeting.status == Meeting.Status.SCHEDULED
        meeting.status = Meeting.Status.CANCELLED
        meeting.cancelled_by = by
        meeting.updated_at = now
        if was_booked:
            meeting.sequence += 1
        meeting.save()
        if was_booked:
            enqueue_after_commit(
                "references.tasks.meeting_invite_send", meeting.pk, meeting.sequence
            )
            if meeting.zoom_meeting_id:
                enqueue_after_commit(
                    "references.tasks.meeting_zoom_sync", meeting.pk, meeting.sequence
                )
            _event("reference.call_cancelled", meeting, request, by)
    return meeting


# --- Reminders ---------------------------------------------------------------------------


def reminders_due(*, now: datetime | None = None) -> int:
    """Claim every reminder whose moment has come and queue its email; safe on two beats.

    The conditional update on the reminder's marker decides which beat sends it.
    """
    now = now or timezone.now()
    queued = 0
    for name, before in REMINDERS:
        marker = f"reminder_{name}_at"
        due = Meeting.objects.filter(
            status=Meeting.Status.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + before,
            **{f"{marker}__isnull": True},
        ).values_list("pk", "sequence")
        for meeting_id, sequence in due:
            with transaction.atomic():
                claimed = Meeting.objects.filter(
                    pk=meeting_id, sequence=sequence, **{f"{marker}__isnull": True}
                ).update(**{marker: now})
                if claimed:
                    enqueue_after_commit(
                        "references.tasks.meeting_reminder_send", meeting_id, name, sequence
                    )
            queued += claimed
    return queued


def zoom_available() -> bool:
    """Whether the program has a Zoom connection (references.zoom's four settings)."""
    return zoom.zoom_configured()


def _zoom_failed(meeting_id: int, error: zoom.ZoomError) -> None:
    message = str(error)
    if error.retryable:
        message = f"{message} (trying again)"
    Meeting.objects.filter(pk=meeting_id).update(zoom_error=message[:300])


def meeting_zoom_sync(*, meeting_id: int, sequence: int) -> str:
    """Create the booked call's Zoom meeting, move it, or delete it once cancelled.

    Runs in a task after the change committed. A failure Zoom may get over (a rate
    limit, a server error) is raised for the task to retry; any other leaves the call
    booked without a link and says why on the advocate's and the rep's pages. A new
    link goes out as an updated invitation (same UID, next SEQUENCE).
    """
    meeting = (
        Meeting.objects.select_related("ask__advocate__user", "ask__request")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None or meeting.sequence != sequence:
        return "skipped: superseded"
    if meeting.starts_at is None or not (
        meeting.zoom_meeting_id or meeting.video == Meeting.Video.ZOOM
    ):
        return "skipped: no Zoom meeting wanted"
    if not zoom.zoom_configured():
        Meeting.objects.filter(pk=meeting.pk).update(
            zoom_error="Zoom is not connected any more: send a link by hand."
        )
        return "skipped: Zoom is not connected"
    try:
        if meeting.status == Meeting.Status.CANCELLED:
            if meeting.zoom_meeting_id:
                zoom.meeting_delete(meeting_id=meeting.zoom_meeting_id)
                Meeting.objects.filter(pk=meeting.pk).update(zoom_meeting_id="")
            return "deleted"
        if meeting.status != Meeting.Status.SCHEDULED:
            return "skipped: not booked"
        if meeting.zoom_meeting_id:
            zoom.meeting_update(
                meeting_id=meeting.zoom_meeting_id,
                start=meeting.starts_at,
                duration_minutes=meeting.duration_minutes,
                timezone=zone_or_default(meeting.time_zone),
            )
            Meeting.objects.filter(pk=meeting.pk).update(zoom_error="")
            return "updated"
        request = meeting.ask.request
        created = zoom.meeting_create(
            topic=f"Reference call: {meeting.ask.advocate.name} and {request.prospect_name}",
            start=meeting.starts_at,
            duration_minutes=meeting.duration_minutes,
            timezone=zone_or_default(meeting.time_zone),
        )
    except zoom.ZoomError as error:
        _zoom_failed(meeting.pk, error)
        if error.retryable:
            raise
        return f"failed: {error}"
    with transaction.atomic():
        # Conditional: a move or a cancellation made meanwhile wins and syncs again.
        stored = Meeting.objects.filter(
            pk=meeting.pk, sequence=sequence, zoom_meeting_id=""
        ).update(
            zoom_meeting_id=created.id,
            video_url=created.join_url,
            zoom_error="",
            sequence=F("sequence") + 1,
        )
        if stored:
            enqueue_after_commit("references.tasks.meeting_invite_send", meeting.pk, sequence + 1)
    if not stored:
        try:
            zoom.meeting_delete(meeting_id=created.id)
        except zoom.ZoomError:
            return "superseded: an unused Zoom meeting was left in the host's list"
        return "superseded"
    return "created"
