"""The advocate's ``referral_count`` (advocates.services.summary): their referrals that
count, every stage but rejected, which is what "has referred" has always meant (a
duplicate is created rejected and never counts). Recounted by whatever changes that
number: ``referral_create``, ``referral_advance`` to rejected, the CSV import, the admin.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from advocates.services.summary import advocate_counts_refresh
from referrals.models import Referral, Stage


def counted_referrals() -> QuerySet[Referral]:
    return Referral.objects.exclude(stage=Stage.REJECTED)


def referral_counts_refresh(*, advocate_ids: Iterable[int]) -> int:
    """Recount ``referral_count`` for ``advocate_ids`` (locks their rows until commit)."""
    return advocate_counts_refresh(
        field="referral_count", rows=counted_referrals(), advocate_ids=advocate_ids
    )
