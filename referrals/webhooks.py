"""Signing of CRM events, both directions (Stripe's scheme).

Header ``Vouch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
with a shared secret: ``CRM_INBOUND_SECRET`` for events the CRM sends us,
``CRM_OUTBOUND_SECRET`` for the ones we send. Several ``v1`` values may be sent while a
secret is rotated; one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings

from referrals.models import ReferralStageChange

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 5 * 60
HEADER = "Vouch-Signature"


class SignatureError(Exception):
    """The request is not signed by the shared secret (message fit for the JSON error)."""


class WebhookRetryable(Exception):
    """The receiver failed in a way worth retrying (5xx, 429)."""


def sign(body: bytes, *, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(header: str | None, body: bytes, *, secret: str, now: float | None = None) -> None:
    """Raise SignatureError unless ``header`` signs ``body`` with ``secret`` recently."""
    if not header:
        raise SignatureError(f"Missing {HEADER} header.")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError(f"Malformed {HEADER} header: t is not a number.") from None
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"Malformed {HEADER} header: expected t=<seconds>,v1=<hex>.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        # Also refuses timestamps far in the future: a captured request cannot be
        # replayed later by forging a clock.
        raise SignatureError("Timestamp outside the 5-minute tolerance.")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("Signature does not match.")


def event_payload(change: ReferralStageChange) -> dict:
    referral = change.referral
    return {
        "id": f"vouch-change-{change.pk}",
        "type": "referral.created" if not change.from_stage else "referral.stage_changed",
        "referral": str(referral.pk),
        "external_id": referral.external_id,
        "advocate_email": referral.advocate.user.email,
        "method": referral.method,
        "referred_name": referral.referred_name,
        "referred_email": referral.referred_email,
        "referred_company": referral.referred_company,
        "stage": change.to_stage,
        "previous_stage": change.from_stage,
        "amount": None if change.deal_amount is None else f"{change.deal_amount:.2f}",
        "occurred_at": change.occurred_at.isoformat(),
    }


def deliver(*, change_id: int) -> str:
    url, secret = settings.CRM_WEBHOOK_URL, settings.CRM_OUTBOUND_SECRET
    if not url or not secret:
        return "skipped: no CRM_WEBHOOK_URL or CRM_OUTBOUND_SECRET"
    change = (
        ReferralStageChange.objects.select_related("referral__advocate__user")
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        return "skipped: gone"
    body = json.dumps(event_payload(change), separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - an https URL set by the operator
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", HEADER: sign(body, secret=secret)},
    )
    try:
        # The URL is the operator's CRM_WEBHOOK_URL setting, never user input.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return f"sent: {response.status}"
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            raise WebhookRetryable(f"CRM answered {error.code}") from error
        # A 4xx will not get better by retrying: log it for the operator and stop.
        logger.error("CRM webhook refused change %s: HTTP %s", change_id, error.code)
        return f"refused: {error.code}"
