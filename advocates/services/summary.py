"""Counts kept on the advocate row for segment filters (``referral_count``,
``reference_count``): the app that owns the counted rows recounts them here, inside the
transaction that wrote them (referrals.services.summary, references.services.summary).

Recounted from the rows rather than incremented, so a count cannot drift whatever the
path (a service, the admin, an operator's SQL and then ``advocate_counts_rebuild``).
The row locks make a recount race-safe: every writer locks the advocates it changed
and recounts in a statement of its own after the lock is granted, so its snapshot
holds every earlier writer's commit; a later writer waits for this one's commit, then
recounts with it. (A recount in the same statement as the lock would not do: a
blocked UPDATE re-reads the locked row but keeps its old snapshot of the counted rows.)
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from advocates.models import Advocate
from advocates.services.locks import advocates_locked

COUNTED_FIELDS = ("referral_count", "reference_count")


def advocate_counts_refresh(*, field: str, rows: QuerySet, advocate_ids: Iterable[int]) -> int:
    """Set ``field`` of each of ``advocate_ids`` to its number of ``rows`` (a queryset
    of the counted rows, with an ``advocate`` foreign key), writing only the advocates
    whose count changed. Returns how many changed."""
    if field not in COUNTED_FIELDS:
        raise ValueError(f"Not a counted field: {field}")
    ids = sorted(set(advocate_ids))
    if not ids:
        return 0
    counted = Coalesce(
        Subquery(
            rows.filter(advocate_id=OuterRef("pk"))
            .order_by()
            .values("advocate_id")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )
    # No savepoint: inside the caller's transaction there is nothing to undo on its own.
    with transaction.atomic(savepoint=False):
        # Locks first, in primary key order (as the ledger takes them), then the recount.
        advocates_locked(ids, no_key=False)
        return (
            Advocate.objects.filter(pk__in=ids)
            .exclude(Q(**{field: counted}))
            .update(**{field: counted})
        )
