"""Referral links: an advocate's own link and card code, and the visits counted on it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from math import ceil

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import fragments
from referrals.models import ReferralLink

# Link codes: unambiguous characters only, so a code read off paper types correctly.
_CARD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _card_code() -> str:
    return "".join(secrets.choice(_CARD_ALPHABET) for _ in range(6))


def referral_link_for(*, advocate_id: int) -> ReferralLink:
    """The advocate's link, created on first use (codes are random, retried on collision)."""
    link = ReferralLink.objects.filter(advocate_id=advocate_id).first()
    if link is not None:
        return link
    for _ in range(5):
        try:
            with transaction.atomic():
                return ReferralLink.objects.create(
                    advocate_id=advocate_id,
                    code=secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:10],
                    card_code=_card_code(),
                )
        except IntegrityError:
            link = ReferralLink.objects.filter(advocate_id=advocate_id).first()
            if link is not None:  # created by a concurrent request
                return link
    raise RuntimeError("Could not generate a unique referral code.")


def referral_link_visit(*, link: ReferralLink, visitor_ids: Sequence[str]) -> bool:
    """Count a visit to the link once per visitor per UTC day; True if this one counted.

    A visitor may go by several ids at once (the cookie just given and the address it
    came from): the visit counts only if none of them was seen on this link today, and
    all of them are remembered.
    """
    now = timezone.now()
    today = now.astimezone(UTC).date()
    midnight = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    until_midnight = max(1, ceil((midnight - now).total_seconds()))
    # cache.add is atomic (SET NX on Redis, a lock in process memory): of two reloads
    # racing, one counts. Every id is added, none skipped, so each is remembered.
    unseen = [
        cache.add(f"referrals:visit:{link.pk}:{today}:{visitor}", 1, timeout=until_midnight)
        for visitor in visitor_ids
    ]
    if not all(unseen):
        return False
    # F(): concurrent visits never lose a count.
    ReferralLink.objects.filter(pk=link.pk).update(visits=F("visits") + 1)
    # The tracker shows the count; .update() sends no signal.
    fragments.advocates_changed([link.advocate_id])
    return True
