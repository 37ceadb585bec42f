"""Saving and deleting segments (``campaigns.segments`` reads and validates filters), and
rebuilding the advocate counts their filters read."""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from advocates.models import Advocate, User
from campaigns.models import Campaign, Segment
from campaigns.segments import SegmentFilterError, SegmentFilters
from references.services.summary import reference_counts_refresh
from referrals.services.summary import referral_counts_refresh

REBUILD_BATCH = 5000


class SegmentInUse(Exception):
    """The segment is the audience of a campaign; the message names them."""


def segment_save(
    *,
    name: str,
    description: str = "",
    filters: SegmentFilters,
    by: User | None = None,
    segment_id: int | None = None,
) -> Segment:
    """Create (``segment_id`` None) or update a segment with a validated filter."""
    filters.validate()
    name = name.strip()
    if not name:
        raise SegmentFilterError(_("Give the segment a name."))
    with transaction.atomic():
        if segment_id is None:
            return Segment.objects.create(
                name=name[:120],
                description=description.strip()[:300],
                filters=filters.to_dict(),
                created_by=by,
            )
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        segment.name = name[:120]
        segment.description = description.strip()[:300]
        segment.filters = filters.to_dict()
        segment.save(update_fields=["name", "description", "filters", "updated_at"])
        return segment


def segment_delete(*, segment_id: int) -> None:
    """Delete a segment no campaign uses (SegmentInUse otherwise, nothing deleted)."""
    with transaction.atomic():
        segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
        if segment is None:
            return
        users = list(Campaign.objects.filter(segment=segment).values_list("name", flat=True)[:4])
        if users:
            shown = ", ".join(f"“{name}”" for name in users[:3])
            if len(users) > 3:
                audience = _("This segment is the audience of %(names)s and others.")
            else:
                audience = _("This segment is the audience of %(names)s.")
            raise SegmentInUse(
                audience % {"names": shown}
                + " "
                + _("Choose another audience for those campaigns first.")
            )
        try:
            segment.delete()
        except ProtectedError:  # a campaign picked it between the check and the delete
            raise SegmentInUse(
                _("A campaign now uses this segment; choose another audience for it first.")
            ) from None


def advocate_counts_rebuild(*, batch: int = REBUILD_BATCH) -> dict[str, int]:
    """Recount every advocate's ``referral_count`` and ``reference_count`` from their rows
    (after a manual SQL fix, say; the services keep them otherwise), set-wise in batches
    of ``batch`` advocates, one transaction each so no lock is held long. Returns how
    many advocates each count changed for."""
    changed = {"referral_count": 0, "reference_count": 0}
    last = 0
    while True:
        ids = list(
            Advocate.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return changed
        with transaction.atomic():
            changed["referral_count"] += referral_counts_refresh(advocate_ids=ids)
            changed["reference_count"] += reference_counts_refresh(advocate_ids=ids)
        last = ids[-1]
