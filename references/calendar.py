"""The meeting as an iCalendar (RFC 5545) invitation, through the icalendar library.

One UID for the meeting's whole life; each invitation, update or cancellation carries
the meeting's current SEQUENCE, so a calendar replaces what it holds with a newer one
and ignores an older one (RFC 5546, section 2.1.5). Times are written in UTC.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from references.models import Meeting

PRODID = "-//Vouch//Reference calls//EN"
REQUEST = "REQUEST"
CANCEL = "CANCEL"


def _address(email: str, name: str, *, role: str = "", partstat: str = "") -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    if role:
        address.params["ROLE"] = vText(role)
        address.params["PARTSTAT"] = vText(partstat or "NEEDS-ACTION")
        address.params["RSVP"] = vText("FALSE")
    return address


def organizer_email() -> str:
    """The program's sender organizes the meeting, so nobody's own calendar owns it."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL


def method_for(meeting: Meeting) -> str:
    return CANCEL if meeting.status == Meeting.Status.CANCELLED else REQUEST


def meeting_ics(meeting: Meeting, *, program_name: str) -> bytes:
    """The meeting's current state as an .ics file (REQUEST, or CANCEL once cancelled).

    ``meeting`` comes with ``ask__advocate__user`` and ``ask__request__rep`` loaded.
    """
    if meeting.starts_at is None or meeting.ends_at is None:
        raise ValueError("A meeting without a time has no invitation.")
    ask = meeting.ask
    request = ask.request
    advocate = ask.advocate
    method = method_for(meeting)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add(
        "summary",
        _("Reference call: %(advocate)s and %(prospect)s")
        % {"advocate": advocate.name, "prospect": request.prospect_name},
    )
    description = [
        _("%(advocate)s (%(title)s) talks with %(prospect)s of %(company)s about their experience.")
        % {
            "advocate": advocate.name,
            "title": advocate.title or _("customer"),
            "prospect": request.prospect_name,
            "company": request.prospect_company,
        },
        _("Arranged by %(program)s for %(rep)s.")
        % {"program": program_name, "rep": request.rep.get_full_name() or request.rep.email},
    ]
    if meeting.video_url:
        description.append(_("Join: %(url)s") % {"url": meeting.video_url})
        event.add("location", meeting.video_url)
        event.add("url", meeting.video_url)
    else:
        description.append(_("The video link will follow in an update."))
    event.add("description", "\n\n".join(description))
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer_email(), program_name))
    event.add(
        "attendee",
        _address(advocate.user.email, advocate.name, role="REQ-PARTICIPANT", partstat="ACCEPTED"),
    )
    event.add(
        "attendee",
        _address(request.prospect_email, request.prospect_name, role="REQ-PARTICIPANT"),
    )
    event.add(
        "attendee",
        _address(
            request.rep.email,
            request.rep.get_full_name() or request.rep.email,
            role="OPT-PARTICIPANT",
        ),
    )
    calendar.add_component(event)
    return calendar.to_ical()


def ics_content_type(meeting: Meeting) -> str:
    return f"text/calendar; method={method_for(meeting)}"  # Django adds the charset


def ics_filename(meeting: Meeting) -> str:
    return "cancelled.ics" if meeting.status == Meeting.Status.CANCELLED else "invite.ics"
