"""Writes for the suppression list: addresses no campaign email goes to.

Unsubscribes add themselves (``campaigns.services.campaigns.message_unsubscribe``); the
email provider's tracking webhook adds hard bounces, spam complaints and its own
rejections (``suppression_from_event``); managers add and remove addresses in the
console. Transactional email (invitations, sign-in) is not affected: a person who
unsubscribed from campaigns may still be invited or reset a password.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from advocates.models import User
from campaigns.models import Suppression
from core.audit import audit_record

# The provider's events (django-anymail's normalised event types) that stop campaigns.
# A soft bounce ("deferred") is retried by the provider and stops nothing.
EVENT_REASONS = {
    "bounced": Suppression.Reason.BOUNCED,  # a hard bounce
    "rejected": Suppression.Reason.BOUNCED,  # the provider would not send (e.g. its list)
    "complained": Suppression.Reason.COMPLAINED,
}


class SuppressionError(Exception):
    """Refused (the message is shown to the manager as it is)."""


def suppression_add(
    *,
    email: str,
    reason: str,
    detail: str = "",
    actor: User | None = None,
    campaign_id: int | None = None,
) -> tuple[Suppression, bool]:
    """Suppress ``email`` (stored lower-case); (the row, whether it is new). An address
    already suppressed keeps its first reason."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise SuppressionError(
            _("“%(email)s” is not a valid email address.") % {"email": email or _("(empty)")}
        ) from None
    with transaction.atomic():
        row, created = Suppression.objects.get_or_create(
            email=email,
            defaults={"reason": reason, "detail": detail.strip()[:300], "campaign_id": campaign_id},
        )
        if created and actor is not None:
            audit_record(actor=actor, action="suppression.add", target=row, detail={"email": email})
    return row, created


def suppression_remove(*, suppression_id: int, actor: User) -> Suppression | None:
    """Let campaign email reach the address again (a manager's decision, audited)."""
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(pk=suppression_id).first()
        if row is None:
            return None
        audit_record(
            actor=actor,
            action="suppression.remove",
            target=row,
            detail={"email": row.email, "reason": row.reason},
        )
        row.delete()
    return row


def suppression_from_event(*, event_type: str, recipient: str, description: str = "") -> bool:
    """The provider told us about ``recipient``: suppress it if the event calls for it.
    True if a new suppression was made. Safe to receive twice (providers retry)."""
    reason = EVENT_REASONS.get(event_type)
    if reason is None or not recipient:
        return False
    try:
        _row, created = suppression_add(email=recipient, reason=reason, detail=description)
    except SuppressionError:
        return False  # an address we could never have sent to: nothing to suppress
    return created
