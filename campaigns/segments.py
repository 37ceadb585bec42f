"""Segments: saved filters over advocates (owned by the segments/AMS work).

Contract used by sending: ``segment_advocates(filters)`` returns the advocates a filter
selects (active advocates only), as a queryset the caller can iterate in chunks.
"""

from __future__ import annotations

from django.db.models import QuerySet

from advocates.models import Advocate


def segment_advocates(filters: dict) -> QuerySet[Advocate]:
    # Placeholder until the segments work lands: every active advocate.
    return Advocate.objects.filter(status=Advocate.Status.ACTIVE)
