"""The advocate's ``reference_count`` (advocates.services.summary): the reference calls
they gave, asks marked completed, which is what "has given a reference call" has always
meant (challenges.selectors.progress counts the same). Recounted where an ask becomes
completed (``calls.call_settle``, the one place a call counts) and by the admin.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from advocates.services.summary import advocate_counts_refresh
from references.models import Ask


def counted_asks() -> QuerySet[Ask]:
    return Ask.objects.filter(status=Ask.Status.COMPLETED)


def reference_counts_refresh(*, advocate_ids: Iterable[int]) -> int:
    """Recount ``reference_count`` for ``advocate_ids`` (locks their rows until commit)."""
    return advocate_counts_refresh(
        field="reference_count", rows=counted_asks(), advocate_ids=advocate_ids
    )
