"""Row locks on advocates, taken by the writers of what is kept per advocate."""

from __future__ import annotations

from collections.abc import Iterable

from advocates.models import Advocate


def advocates_locked(ids: Iterable[int], *, no_key: bool = True) -> list[int]:
    """Lock these advocates' rows in primary key order (the order the ledger takes them,
    so two writers never wait on each other in a circle) and return the ids that exist.

    ``no_key``: FOR NO KEY UPDATE, enough to serialise recomputations of one advocate's
    summaries without blocking rows that reference the advocate being inserted."""
    return list(
        Advocate.objects.select_for_update(no_key=no_key)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
