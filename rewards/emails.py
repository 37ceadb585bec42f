"""Emails to the advocate at each step of a redemption (called by rewards.tasks)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.i18n import language_of
from core.mail import send_templated
from rewards.models import Redemption

# The step's email template and the field recording that it went out.
STEPS: dict[str, str] = {
    Redemption.Status.REQUESTED: "notified_requested_at",
    Redemption.Status.APPROVED: "notified_approved_at",
    Redemption.Status.FULFILLED: "notified_fulfilled_at",
    Redemption.Status.CANCELLED: "notified_cancelled_at",
}


def redemption_deliver(*, redemption_id: int, step: str) -> str:
    """Send the email for one step, unless it was sent already.

    The notified field is set after the send with a conditional update: a task retried
    after a successful send finds it set and skips, while a send that failed (SMTP
    down) is retried. A worker dying between the send and the update could send twice;
    holding a lock across the SMTP call to rule that out would be worse.
    """
    field = STEPS.get(step)
    if field is None:
        return f"skipped: unknown step {step!r}"
    redemption = (
        Redemption.objects.select_related("reward", "advocate__user")
        .filter(pk=redemption_id)
        .first()
    )
    if redemption is None:
        return "skipped: gone"
    if getattr(redemption, field) is not None:
        return "skipped: sent already"
    send_templated(
        to=redemption.advocate.user.email,
        template=f"redemption_{step}",
        context={
            "redemption": redemption,
            "reward": redemption.reward,
            "advocate": redemption.advocate,
            "url": settings.SITE_URL + reverse("rewards:redemption", args=[redemption.pk]),
        },
        language=language_of(redemption.advocate.user),
    )
    Redemption.objects.filter(pk=redemption.pk, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )
    return "sent"
