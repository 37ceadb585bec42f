from __future__ import annotations

from django.db.models import QuerySet

from rewards.models import LedgerEntry


def ledger_recent(*, advocate_id: int, limit: int = 10) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(advocate_id=advocate_id).order_by("-created_at", "-id")[
        :limit
    ]
