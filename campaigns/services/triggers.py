"""Firing trigger campaigns (``campaigns.triggers`` says when each trigger fires)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from advocates.models import Advocate
from campaigns.models import Campaign, CampaignMessage, TriggerFire, TriggerWatermark
from campaigns.services.campaigns import SEND_BATCH_TASK
from campaigns.triggers import LOOKBACK, active_trigger_campaigns, trigger_candidates
from core.outbox import enqueue_after_commit

CHUNK = 500


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
        f"INSERT INTO {table} (campaign_id, advocate_id, fired_at) VALUES {rows} "  # noqa: S608 - only the quoted table name and placeholders are formatted in
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


def trigger_evaluate_campaign(*, campaign_id: int, now: datetime | None = None) -> int:
    """Evaluate one trigger campaign since its watermark; returns how many advocates fired."""
    now = now or timezone.now()
    campaign = active_trigger_campaigns().filter(pk=campaign_id).first()
    if campaign is None or campaign.started_at is None:
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
            enqueue_after_commit(SEND_BATCH_TASK, campaign.pk)
    return fired


def triggers_evaluate_all() -> int:
    """Evaluate every active trigger campaign; returns how many advocates fired."""
    total = 0
    for campaign_id in active_trigger_campaigns().values_list("pk", flat=True):
        total += trigger_evaluate_campaign(campaign_id=campaign_id)
    return total
