"""Reads of the campaigns app: recipients, progress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q

from campaigns import kinds, segments
from campaigns.models import Campaign, CampaignMessage

RECIPIENT_CHUNK = 2000


def campaign_recipient_rows(
    campaign: Campaign,
) -> Iterator[tuple[int | None, str, str, str, dict[str, Any]]]:
    """(advocate id, email, first, last, context) for every recipient, streamed.

    Raises ``segments.SegmentFilterError`` when the campaign's segment filter is broken.
    """
    custom = kinds.audience(campaign)
    if custom is not None:
        for recipient in custom:
            yield (
                recipient.advocate_id,
                recipient.email,
                recipient.first_name,
                recipient.last_name,
                recipient.context,
            )
        return
    if campaign.segment is None:
        return
    advocates = (
        segments.segment_advocates(campaign.segment.filters)
        .order_by()
        .values_list("pk", "user__email", "user__first_name", "user__last_name")
    )
    for pk, email, first, last in advocates.iterator(chunk_size=RECIPIENT_CHUNK):
        yield pk, email, first, last, {}


def campaign_progress(campaign_id: int) -> dict[str, int]:
    """Every count the campaign page shows, in one aggregate query."""
    S, R = CampaignMessage.Status, CampaignMessage.SkipReason
    counts = CampaignMessage.objects.filter(campaign_id=campaign_id).aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=S.PENDING)),
        in_flight=Count("id", filter=Q(status=S.SENDING)),
        sent=Count("id", filter=Q(status=S.SENT)),
        failed=Count("id", filter=Q(status=S.FAILED)),
        skipped=Count("id", filter=Q(status=S.SKIPPED)),
        skipped_unsubscribed=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.UNSUBSCRIBED)),
        skipped_fatigue=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.FATIGUE)),
        skipped_inactive=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.INACTIVE)),
        skipped_cancelled=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.CANCELLED)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    counts["done"] = done
    counts["percent"] = int(100 * done / counts["total"]) if counts["total"] else 0
    return counts
