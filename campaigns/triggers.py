"""Trigger campaigns: a campaign sent to one advocate when something happens to them.

A trigger campaign is *active* from its start (``services.kinds.campaign_trigger_start``:
status "sending") until it is stopped or cancelled. Beat runs ``triggers_evaluate`` every
five minutes (``services.triggers`` fires them); each active campaign reads only the
events since its last evaluation (``TriggerWatermark``), set-wise:

- ``nps_promoter``: NPS answers 9–10 (``NPSResponse.created_at``);
- ``level_reached``: ``LevelAchievement`` rows of the chosen level (``reached_at``);
- ``referral_won``: referrals of the advocate won (``Referral.won_at``);
- ``inactive``: not an event but a state, so the query is over advocates: active ones
  whose ``last_active_at`` is older than N days, or who never acted and joined more
  than N days ago (the ``last_active_at`` index keeps it cheap).

Each advocate fires at most once per campaign: the ``TriggerFire`` insert decides
(``INSERT ... ON CONFLICT DO NOTHING RETURNING``), so two evaluations at once, or one
repeated after a crash, create one message each. The window reaches back
``LOOKBACK`` before the watermark, so a row committed late with an earlier timestamp is
still seen; the insert makes reading it twice harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from advocates.models import Advocate
from campaigns.models import Campaign, TriggerFire
from campaigns.segments import segment_advocates
from challenges.models import LevelAchievement, NPSResponse
from referrals.models import Referral, Stage

LOOKBACK = timedelta(minutes=15)
# Active: started and neither paused nor cancelled. "sent" is included because sending
# may mark a campaign finished when its queue drains; a trigger campaign only ends when
# a manager stops it.
ACTIVE_STATUSES = (Campaign.Status.SENDING, Campaign.Status.SENT)


def active_trigger_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.exclude(trigger="")
        .filter(status__in=ACTIVE_STATUSES, started_at__isnull=False)
        .select_related("segment", "trigger_level")
        .order_by("id")
    )


def _event_advocates(campaign: Campaign, since: datetime, until: datetime) -> QuerySet:
    """Ids of the advocates the campaign's trigger fired for in [since, until)."""
    trigger = campaign.trigger
    if trigger == Campaign.Trigger.NPS_PROMOTER:
        return NPSResponse.objects.filter(
            created_at__gte=since, created_at__lt=until, score__gte=9
        ).values("advocate_id")
    if trigger == Campaign.Trigger.LEVEL_REACHED:
        if campaign.trigger_level_id is None:
            return LevelAchievement.objects.none().values("advocate_id")
        return LevelAchievement.objects.filter(
            level_id=campaign.trigger_level_id, reached_at__gte=since, reached_at__lt=until
        ).values("advocate_id")
    if trigger == Campaign.Trigger.REFERRAL_WON:
        return Referral.objects.filter(stage=Stage.WON, won_at__gte=since, won_at__lt=until).values(
            "advocate_id"
        )
    raise ValueError(f"Not an event trigger: {trigger}")


def inactive_q(days: int, now: datetime) -> Q:
    """Inactive for ``days``: last action older than that, or none and joined before it."""
    cutoff = now - timedelta(days=days)
    return Q(last_active_at__lt=cutoff) | Q(
        last_active_at__isnull=True, joined_at__isnull=False, joined_at__lt=cutoff
    )


def trigger_candidates(campaign: Campaign, *, since: datetime, until: datetime) -> QuerySet:
    """Active advocates the trigger fired for (in its segment, if it has one), not yet fired."""
    advocates = Advocate.objects.filter(status=Advocate.Status.ACTIVE)
    if campaign.trigger == Campaign.Trigger.INACTIVE:
        if not campaign.trigger_inactive_days:
            return Advocate.objects.none()
        advocates = advocates.filter(inactive_q(campaign.trigger_inactive_days, until))
    else:
        advocates = advocates.filter(pk__in=_event_advocates(campaign, since, until))
    if campaign.segment is not None:
        advocates = advocates.filter(
            pk__in=segment_advocates(campaign.segment.filters).values("pk")
        )
    return (
        advocates.exclude(
            Exists(TriggerFire.objects.filter(campaign=campaign, advocate=OuterRef("pk")))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
