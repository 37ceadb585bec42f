"""Signed links for people without a session: the prospect's choice, call and feedback
pages, and either side's "did the call happen?" link.

Emails build their links from here; ``services.request_from_token`` reads them back.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from references.models import Meeting, ReferenceRequest

CHOICE_SALT = "vouch.reference.prospect-choice"
FEEDBACK_SALT = "vouch.reference.prospect-feedback"
CALL_SALT = "vouch.reference.prospect-call"
ATTENDANCE_SALT = "vouch.reference.attendance"


def prospect_token(request: ReferenceRequest, *, purpose: str = CHOICE_SALT) -> str:
    return signing.dumps({"r": request.pk, "n": request.link_nonce}, salt=purpose)


def prospect_url(request: ReferenceRequest) -> str:
    return settings.SITE_URL + reverse(
        "references:prospect", kwargs={"pk": request.pk, "token": prospect_token(request)}
    )


def prospect_feedback_url(request: ReferenceRequest) -> str:
    token = prospect_token(request, purpose=FEEDBACK_SALT)
    return settings.SITE_URL + reverse(
        "references:prospect_feedback", kwargs={"pk": request.pk, "token": token}
    )


def prospect_call_url(request: ReferenceRequest) -> str:
    """The prospect's call page: pick a time, add it to a calendar, move or cancel it."""
    token = prospect_token(request, purpose=CALL_SALT)
    return settings.SITE_URL + reverse(
        "references:prospect_call", kwargs={"pk": request.pk, "token": token}
    )


def attendance_token(meeting: Meeting, side: str) -> str:
    return signing.dumps({"m": meeting.pk, "u": meeting.uid, "s": side}, salt=ATTENDANCE_SALT)


def attendance_path(meeting: Meeting, side: str) -> str:
    token = attendance_token(meeting, side)
    return reverse("references:attendance", kwargs={"pk": meeting.pk, "token": token})


def attendance_url(meeting: Meeting, side: str) -> str:
    """A sign-in-free "did the call happen?" link for one side (advocate or prospect)."""
    return settings.SITE_URL + attendance_path(meeting, side)
