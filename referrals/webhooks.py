"""Signatures of the events a CRM sends to Vouch (Stripe's scheme).

Header ``Vouch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
with the shared secret ``CRM_INBOUND_SECRET``. Several ``v1`` values may be sent while a
secret is rotated; one matching is enough. Events Vouch sends go out through the
console's webhook endpoints instead (``core.webhooks``, Standard Webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 5 * 60
HEADER = "Vouch-Signature"


class SignatureError(Exception):
    """The request is not signed by the shared secret (message fit for the JSON error)."""


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
