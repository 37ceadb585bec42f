"""Outgoing email for reference calls (called by tasks, after commit).

Each function re-reads the rows, skips what no longer applies, and records a delivery
with a conditional update, so a task run twice does not mail twice once it succeeded.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.i18n import language_of, speaking_to
from core.mail import Attachment, send_templated
from core.models import ProgramSettings
from core.timezones import zone_or_default
from references.calendar import ics_content_type, ics_filename, meeting_ics
from references.links import (
    attendance_url,
    prospect_call_url,
    prospect_feedback_url,
    prospect_url,
)
from references.models import Ask, Meeting, ReferenceRequest


def _ask(ask_id: int) -> Ask | None:
    return (
        Ask.objects.select_related("advocate__user", "advocate__company", "request__rep")
        .filter(pk=ask_id)
        .first()
    )


def prospect_link_deliver(*, request_id: int, send_number: int) -> str:
    request = ReferenceRequest.objects.select_related("rep").filter(pk=request_id).first()
    if request is None or request.status != ReferenceRequest.Status.WITH_PROSPECT:
        return "skipped: no longer waiting for the prospect"
    if send_number != request.link_send_count or request.link_delivered_send >= send_number:
        return "skipped: superseded or delivered"
    send_templated(
        to=request.prospect_email,
        template="reference_prospect_link",
        context={
            "request": request,
            "url": prospect_url(request),
            "count": request.candidates.count(),
        },
    )
    ReferenceRequest.objects.filter(pk=request.pk, link_delivered_send__lt=send_number).update(
        link_delivered_send=send_number
    )
    return "sent"


def ask_deliver(*, ask_id: int) -> str:
    ask = _ask(ask_id)
    if ask is None or ask.status != Ask.Status.PENDING or ask.ask_emailed_at:
        return "skipped"
    send_templated(
        to=ask.advocate.user.email,
        template="reference_ask",
        context={
            "ask": ask,
            "request": ask.request,
            "url": settings.SITE_URL + reverse("references:my_requests"),
        },
        language=language_of(ask.advocate.user),
    )
    Ask.objects.filter(pk=ask.pk, ask_emailed_at__isnull=True).update(ask_emailed_at=timezone.now())
    return "sent"


def intro_deliver(*, ask_id: int) -> str:
    """The introduction: one email to the prospect, one to the advocate (the rep in cc)."""
    ask = _ask(ask_id)
    if ask is None or ask.status != Ask.Status.ACCEPTED or ask.intro_emailed_at:
        return "skipped"
    request = ask.request
    context = {
        "ask": ask,
        "request": request,
        "advocate": ask.advocate,
        "rep": request.rep,
        "call_url": prospect_call_url(request),
    }
    send_templated(
        to=request.prospect_email,
        template="reference_intro_prospect",
        context=context | {"cc": request.rep.email},
    )
    send_templated(
        to=ask.advocate.user.email,
        template="reference_intro_advocate",
        context=context,
        language=language_of(ask.advocate.user),
    )
    Ask.objects.filter(pk=ask.pk, intro_emailed_at__isnull=True).update(
        intro_emailed_at=timezone.now()
    )
    return "sent"


def feedback_request_deliver(*, ask_id: int) -> str:
    ask = _ask(ask_id)
    if ask is None or ask.status != Ask.Status.COMPLETED or ask.feedback_emailed_at:
        return "skipped"
    request = ask.request
    send_templated(
        to=request.prospect_email,
        template="reference_feedback_prospect",
        context={
            "request": request,
            "advocate": ask.advocate,
            "url": prospect_feedback_url(request),
        },
    )
    send_templated(
        to=ask.advocate.user.email,
        template="reference_feedback_advocate",
        context={
            "request": request,
            "ask": ask,
            "url": settings.SITE_URL + reverse("references:my_requests"),
        },
        language=language_of(ask.advocate.user),
    )
    Ask.objects.filter(pk=ask.pk, feedback_emailed_at__isnull=True).update(
        feedback_emailed_at=timezone.now()
    )
    return "sent"


def rep_notice_deliver(*, request_id: int, why: str, number: int) -> str:
    request = ReferenceRequest.objects.select_related("rep").filter(pk=request_id).first()
    if request is None or request.status != ReferenceRequest.Status.NEEDS_REP:
        return "skipped: the request moved on"
    if request.rep_notice_delivered >= number:
        return "skipped: delivered"
    send_templated(
        to=request.rep.email,
        template="reference_rep_notice",
        context={
            "request": request,
            "why": why,
            "url": settings.SITE_URL + reverse("references:request_detail", args=[request.pk]),
        },
        language=language_of(request.rep),
    )
    ReferenceRequest.objects.filter(pk=request.pk, rep_notice_delivered__lt=number).update(
        rep_notice_delivered=number
    )
    return "sent"


# --- The scheduled call -------------------------------------------------------------------


def _meeting(meeting_id: int) -> Meeting | None:
    return (
        Meeting.objects.select_related(
            "ask__advocate__user", "ask__advocate__company", "ask__request__rep"
        )
        .filter(pk=meeting_id)
        .first()
    )


def _recipients(meeting: Meeting) -> list[dict]:
    """Advocate, prospect and rep: each one's address, own timezone and own page, and
    their account (``user``; None for the prospect, who is written to in the site's
    language)."""
    ask = meeting.ask
    request = ask.request
    hub = settings.SITE_URL + reverse("references:my_requests")
    return [
        {
            "side": "advocate",
            "user": ask.advocate.user,
            "to": ask.advocate.user.email,
            "name": ask.advocate.user.first_name or ask.advocate.name,
            "tz": zone_or_default(meeting.time_zone),
            "page": hub,
        },
        {
            "side": "prospect",
            "user": None,
            "to": request.prospect_email,
            "name": request.prospect_first_name,
            "tz": zone_or_default(meeting.prospect_time_zone or meeting.time_zone),
            "page": prospect_call_url(request),
        },
        {
            "side": "rep",
            "user": request.rep,
            "to": request.rep.email,
            "name": request.rep.first_name or request.rep.email,
            "tz": zone_or_default(""),
            "page": settings.SITE_URL + reverse("references:request_detail", args=[request.pk]),
        },
    ]


def meeting_offer_deliver(*, meeting_id: int) -> str:
    """To the prospect: the advocate's times (or booking page) are ready to pick from."""
    meeting = _meeting(meeting_id)
    if meeting is None or meeting.status not in (Meeting.Status.PROPOSED, Meeting.Status.BOOKING):
        return "skipped: no longer offered"
    if meeting.offer_mailed_at:
        return "skipped: delivered"
    request = meeting.ask.request
    send_templated(
        to=request.prospect_email,
        template="reference_meeting_offer",
        context={
            "meeting": meeting,
            "request": request,
            "advocate": meeting.ask.advocate,
            "url": prospect_call_url(request),
        },
    )
    Meeting.objects.filter(pk=meeting.pk, offer_mailed_at__isnull=True).update(
        offer_mailed_at=timezone.now()
    )
    return "sent"


def meeting_invite_deliver(*, meeting_id: int, sequence: int) -> str:
    """The invitation, its update or its cancellation, with the .ics, to all three.

    Only the meeting's current sequence is mailed: a move made while an older
    invitation waited in the queue supersedes it.
    """
    meeting = _meeting(meeting_id)
    if meeting is None or meeting.starts_at is None:
        return "skipped: no such meeting"
    if meeting.sequence != sequence or meeting.mailed_sequence >= sequence:
        return "skipped: superseded or delivered"
    program_name = ProgramSettings.load().display_name
    if meeting.status == Meeting.Status.CANCELLED:
        kind = "cancelled"
    elif sequence == 0:
        kind = "invitation"
    else:
        kind = "update"
    for person in _recipients(meeting):
        # The same invitation (one UID and sequence) for all three, each in their language.
        with speaking_to(person["user"]):
            ics = Attachment(
                filename=ics_filename(meeting),
                content=meeting_ics(meeting, program_name=program_name),
                mimetype=ics_content_type(meeting),
            )
        send_templated(
            to=person["to"],
            template="reference_meeting_invite",
            context={
                "meeting": meeting,
                "request": meeting.ask.request,
                "advocate": meeting.ask.advocate,
                "person": person,
                "kind": kind,
            },
            attachments=[ics],
            language=language_of(person["user"]),
        )
    Meeting.objects.filter(pk=meeting.pk, mailed_sequence__lt=sequence).update(
        mailed_sequence=sequence
    )
    return "sent"


def meeting_reminder_deliver(*, meeting_id: int, which: str, sequence: int) -> str:
    meeting = _meeting(meeting_id)
    if meeting is None or meeting.status != Meeting.Status.SCHEDULED:
        return "skipped: not booked"
    if meeting.sequence != sequence or meeting.starts_at is None:
        return "skipped: moved since"
    if meeting.starts_at <= timezone.now():
        return "skipped: already started"
    for person in _recipients(meeting):
        send_templated(
            to=person["to"],
            template="reference_meeting_reminder",
            context={
                "meeting": meeting,
                "request": meeting.ask.request,
                "advocate": meeting.ask.advocate,
                "person": person,
                "which": which,
            },
            language=language_of(person["user"]),
        )
    return "sent"


def meeting_attendance_ask_deliver(*, meeting_id: int) -> str:
    """After the call: "did it happen?" to the advocate and the prospect (one-click links)."""
    meeting = _meeting(meeting_id)
    if meeting is None or meeting.status != Meeting.Status.SCHEDULED:
        return "skipped: not booked"
    if meeting.attendance != Meeting.Attendance.OPEN or meeting.attendance_mailed_at:
        return "skipped: settled or delivered"
    for person in _recipients(meeting):
        if person["side"] == "rep":
            continue  # the rep answers on the request's page
        url = attendance_url(meeting, person["side"])
        send_templated(
            to=person["to"],
            template="reference_meeting_attendance",
            context={
                "meeting": meeting,
                "request": meeting.ask.request,
                "advocate": meeting.ask.advocate,
                "person": person,
                "yes_url": f"{url}?held=yes",
                "no_url": f"{url}?held=no",
            },
            language=language_of(person["user"]),
        )
    Meeting.objects.filter(pk=meeting.pk, attendance_mailed_at__isnull=True).update(
        attendance_mailed_at=timezone.now()
    )
    return "sent"
