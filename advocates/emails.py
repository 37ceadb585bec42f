"""Outgoing email for the advocates app (called by tasks, after commit)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from advocates.links import invitation_url
from advocates.models import Invitation, User
from core.i18n import language_of
from core.mail import send_templated


def invitation_deliver(*, invitation_id: int, send_number: int) -> str:
    invitation = Invitation.objects.select_related("invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None:
        return "skipped: gone or accepted"
    if send_number != invitation.send_count or invitation.delivered_send >= send_number:
        # A newer send superseded this one, or this one was delivered already.
        return "skipped: superseded or delivered"
    # Written in the invitee's language when the address has an account already (a former
    # advocate, a rep); a newcomer gets the site's language.
    recipient = User.objects.filter(email__iexact=invitation.email).first()
    send_templated(
        to=invitation.email,
        language=language_of(recipient),
        template="invitation",
        context={
            "invitation": invitation,
            "inviter": invitation.invited_by,
            "url": invitation_url(invitation),
            "expires_days": settings.INVITATION_MAX_AGE_DAYS,
            "welcome_points": settings.WELCOME_POINTS,
        },
    )
    Invitation.objects.filter(pk=invitation.pk, delivered_send__lt=send_number).update(
        delivered_send=send_number, sent_at=timezone.now()
    )
    return "sent"
