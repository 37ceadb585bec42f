"""Trigger campaigns: a campaign sent to one advocate when something happens to them.

A trigger campaign is *active* from its start (``kinds_services.campaign_trigger_start``:
status "sending") until it is stopped or cancelled. Beat runs ``triggers_evaluate`` every
five minutes; each active campaign reads only the events since its last evaluation
(``TriggerWatermark``), set-wise:

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

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from advocates.models import Advocate
from campaigns.models import Campaign, CampaignMessage, TriggerFire, TriggerWatermark

LOOKBACK = timedelta(minutes=15)
CHUNK = 500
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
    from challenges.models import LevelAchievement, NPSResponse
    from referrals.models import Referral, Stage

    trigger = campaign.trigger
    if trigger == Campaign.Trigger.NPS_PROMOTER:
        return NPSResponse.objects.filter(
            created_at__gte=since, created_at__lt=until, score__gte=9
        ).values("advocate_id")
    if trigger == Campaign.Trigger.LEVEL_REACHED:
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
    if campaign.segment_id is not None:
        from campaigns.segments import segment_advocates

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


def _claim(campaign_id: int, advocate_ids: list[int], now: datetime) -> list[int]:
    """Insert the fires; return the advocates whose insert won (the others fired already)."""
    if not advocate_ids:
        return []
    table = connection.ops.quote_name(TriggerFire._meta.db_table)
    fired_at = connection.ops.adapt_datetimefield_value(now)
    rows = ", ".join(["(%s, %s, %s)"] * len(advocate_ids))
    params: list = []
    for advocate_id in advocate_ids:
        params += [campaign_id, advocate_id, fired_at]
    # Only the quoted table name is formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (campaign_id, advocate_id, fired_at) VALUES {rows} "
        "ON CONFLICT (campaign_id, advocate_id) DO NOTHING RETURNING advocate_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def trigger_fire(*, campaign: Campaign, advocate_ids: list[int], now: datetime) -> int:
    """Fire ``campaign`` for these advocates: one fire and one pending message each.

    Runs in the caller's transaction; returns how many fired now.
    """
    won = _claim(campaign.pk, advocate_ids, now)
    if not won:
        return 0
    advocates = (
        Advocate.objects.filter(pk__in=won)
        .select_related("user")
        .only("pk", "user__email", "user__first_name", "user__last_name")
    )
    CampaignMessage.objects.bulk_create(
        [
            CampaignMessage(
                campaign=campaign,
                advocate=advocate,
                email=advocate.user.email.lower(),
                first_name=advocate.user.first_name,
                last_name=advocate.user.last_name,
                context={"trigger": campaign.trigger},
            )
            for advocate in advocates
        ],
        ignore_conflicts=True,  # an address already on this campaign gets no second email
    )
    return len(won)


def _enqueue_sending(campaign_id: int) -> None:
    """Sending's own batch task, enqueued once the fires commit."""
    from campaigns.sending import campaign_send_batch

    try:
        # Survives a broker outage: the intent is written with the transaction.
        from core.outbox import enqueue_after_commit
    except ImportError:  # pragma: no cover - the outbox lands with the reliability work

        def enqueue_after_commit(task, *args):
            transaction.on_commit(lambda: task.delay(*args))

    enqueue_after_commit(campaign_send_batch, campaign_id)


def trigger_evaluate_campaign(*, campaign_id: int, now: datetime | None = None) -> int:
    """Evaluate one trigger campaign since its watermark; returns how many advocates fired."""
    now = now or timezone.now()
    campaign = active_trigger_campaigns().filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    watermark = TriggerWatermark.objects.filter(campaign=campaign).first()
    start = watermark.evaluated_until if watermark else campaign.started_at
    # Never before the start: events from before the campaign ran do not fire it.
    since = max(start - LOOKBACK, campaign.started_at)
    fired = 0
    ids = list(trigger_candidates(campaign, since=since, until=now))
    for offset in range(0, len(ids), CHUNK):
        with transaction.atomic():
            fired += trigger_fire(
                campaign=campaign, advocate_ids=ids[offset : offset + CHUNK], now=now
            )
    with transaction.atomic():
        TriggerWatermark.objects.update_or_create(
            campaign=campaign, defaults={"evaluated_until": now}
        )
        if fired:
            _enqueue_sending(campaign.pk)
    return fired


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def triggers_evaluate() -> int:
    """Beat, every 5 minutes: evaluate every active trigger campaign. Safe to run twice."""
    total = 0
    for campaign_id in active_trigger_campaigns().values_list("pk", flat=True):
        total += trigger_evaluate_campaign(campaign_id=campaign_id)
    return total
