"""Campaign figures for ``/metrics`` (core.metrics): is sending moving, and how fast."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.apps import apps
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from core.metrics import register


@register
def campaign_sending() -> Iterable[Metric]:
    # Models by name: this module is imported while apps load (campaigns.apps).
    campaign = apps.get_model("campaigns", "Campaign")
    message = apps.get_model("campaigns", "CampaignMessage")
    sending = message.objects.filter(campaign__status=campaign.Status.SENDING)
    by_status = GaugeMetricFamily(
        "vouch_campaign_messages",
        "Messages of the campaigns now sending, by status (pending falling to 0 is done).",
        labels=["status"],
    )
    counts = dict(sending.values_list("status").annotate(n=Count("id")).order_by())
    for status in message.Status.values:
        by_status.add_metric([status], counts.get(status, 0))
    yield by_status
    since = timezone.now() - timedelta(minutes=1)
    yield GaugeMetricFamily(
        "vouch_campaign_messages_sent_last_minute",
        "Campaign emails sent in the last minute: the send rate.",
        value=sending.filter(status=message.Status.SENT, sent_at__gte=since).count(),
    )
