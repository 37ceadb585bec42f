"""Reads of the campaigns app: recipients, progress, the hub's referral drives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from advocates.models import Advocate
from campaigns import kinds, segments
from campaigns.kinds import REFERRAL_DRIVE_ACTIVE
from campaigns.models import Campaign, CampaignMessage, CampaignProspect, Segment
from core.models import ProgramSettings

RECIPIENT_CHUNK = 2000
SEGMENT_EXPORT_CHUNK = 2000


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


# Why recipients got nothing, in the order the summary names them.
OUTCOME_SKIPS = (
    ("skipped_fatigue", gettext_noop("%(count)s skipped by the weekly cap")),
    ("skipped_unsubscribed", gettext_noop("%(count)s skipped as unsubscribed")),
    ("skipped_inactive", gettext_noop("%(count)s skipped as no longer active")),
    ("skipped_cancelled", gettext_noop("%(count)s not sent (cancelled)")),
)


def campaign_outcome(progress: dict[str, int]) -> str:
    """What a finished campaign did, e.g. "0 sent, 3 skipped by the weekly cap"."""
    parts = [_("%(count)s sent") % {"count": number_format(progress["sent"], force_grouping=True)}]
    parts += [
        _(label) % {"count": number_format(progress[key], force_grouping=True)}
        for key, label in OUTCOME_SKIPS
        if progress[key]
    ]
    if progress["failed"]:
        parts.append(
            _("%(count)s failed")
            % {"count": number_format(progress["failed"], force_grouping=True)}
        )
    return ", ".join(parts)


# --- Lists ---------------------------------------------------------------------------------


def campaigns_listed() -> QuerySet[Campaign]:
    """Every campaign, newest first, with its message counts (one query per page)."""
    S = CampaignMessage.Status
    return (
        Campaign.objects.select_related("segment")
        .annotate(
            n_total=Count("messages"),
            n_sent=Count("messages", filter=Q(messages__status=S.SENT)),
            n_skipped=Count("messages", filter=Q(messages__status=S.SKIPPED)),
            n_failed=Count("messages", filter=Q(messages__status=S.FAILED)),
            n_opened=Count("messages", filter=Q(messages__opened_at__isnull=False)),
            n_clicked=Count("messages", filter=Q(messages__clicked_at__isnull=False)),
        )
        .order_by("-created_at", "-id")
    )


def campaign_prospects(campaign: Campaign) -> QuerySet[CampaignProspect]:
    """A reference drive's prospects in import order, with their paired advocate."""
    return (
        CampaignProspect.objects.filter(campaign=campaign)
        .select_related("advocate__user", "advocate__company")
        .order_by("id")
    )


def campaign_prospects_counts(campaign: Campaign) -> dict[str, int]:
    """How many prospects, how many paired, with how many advocates (one query)."""
    return CampaignProspect.objects.filter(campaign=campaign).aggregate(
        total=Count("id"),
        paired=Count("id", filter=Q(advocate__isnull=False)),
        advocates=Count("advocate", distinct=True),
    )


# --- Segments ------------------------------------------------------------------------------


def segment_members(segment: Segment) -> QuerySet[Advocate]:
    """The segment's active advocates, by name (raises SegmentFilterError)."""
    return (
        segments.segment_advocates(segment.filters)
        .select_related("user", "company")
        .order_by("user__last_name", "user__first_name", "pk")
    )


SEGMENT_EXPORT_HEADER = [
    "id",
    "first_name",
    "last_name",
    "email",
    "company",
    "title",
    "seniority",
    "industry",
    "lifetime_points",
    "nps",
    "ams",
    "ams_private",
    "ams_public",
    "last_active_at",
    "reference_opt_in",
]


def segment_export_rows(segment: Segment) -> Iterator[list[Any]]:
    """The export's rows, streamed (``SEGMENT_EXPORT_HEADER`` names the columns)."""
    queryset = (
        segments.segment_advocates(segment.filters)
        .order_by("pk")
        .values_list(
            "pk",
            "user__first_name",
            "user__last_name",
            "user__email",
            "company__name",
            "title",
            "seniority",
            "industry",
            "lifetime_points",
            "nps_score",
            "ams",
            "ams_private",
            "ams_public",
            "last_active_at",
            "reference_opt_in",
        )
    )
    # A server-side cursor on PostgreSQL: rows arrive SEGMENT_EXPORT_CHUNK at a time.
    for row in queryset.iterator(chunk_size=SEGMENT_EXPORT_CHUNK):
        yield list(row)


# --- The hub: referral drives -----------------------------------------------------------

DRIVES_SHOWN = 3
# When the manager wrote no message for advocates to send, they start from this one.
# Translators: keep the {{ ... }} placeholders as they are.
DEFAULT_SUGGESTED = gettext_lazy(
    "Hi,\n\n"
    "I have been using {{ program_name }} at work and I think it would help you too. "
    "Here is a link to talk to the team:\n\n"
    "{{ referral_link }}\n\n"
    "Best,\n"
    "{{ first_name }}"
)
_TAG = re.compile(r"{{\s*([a-z_][a-z0-9_]*)\s*}}")


def suggested_text(text: str, values: dict[str, str]) -> str:
    """The drive's pre-written message with the advocate's own values filled in
    (plain text: it goes into a textarea the advocate edits)."""
    return _TAG.sub(lambda match: values.get(match.group(1), ""), text or "")


def referral_drives_context(advocate: Advocate) -> dict[str, Any]:
    """Active referral drives this advocate was sent, newest first (two queries)."""
    received = list(
        CampaignMessage.objects.filter(
            advocate=advocate,
            status=CampaignMessage.Status.SENT,
            campaign__kind=Campaign.Kind.REFERRAL_DRIVE,
            campaign__status__in=REFERRAL_DRIVE_ACTIVE,
        )
        .select_related("campaign")
        .order_by("-sent_at", "-id")[:DRIVES_SHOWN]
    )
    drives = []
    if received:
        values = {
            "referral_link": kinds.referral_link(advocate.pk),
            "first_name": advocate.user.first_name,
            "last_name": advocate.user.last_name,
            "program_name": ProgramSettings.load().display_name,
        }
        for message in received:
            campaign = message.campaign
            drives.append(
                {
                    "campaign": campaign,
                    "message": suggested_text(
                        campaign.suggested_message or str(DEFAULT_SUGGESTED), values
                    ),
                }
            )
    return {"advocate": advocate, "drives": drives}
