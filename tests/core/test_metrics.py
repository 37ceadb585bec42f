"""/metrics: Prometheus sees requests, queues, the outbox and campaign sending."""

from __future__ import annotations

import uuid
from datetime import timedelta
from unittest import mock

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import Campaign, CampaignMessage, Segment
from core.models import OutboxTask

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-tests"


def _scrape(client: Client | None = None) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.REDIS_URL = ""


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_requests_are_counted_by_url_name_and_status(token, client) -> None:
    before = _scrape()
    key = ("vouch_http_requests_total", (("method", "GET"), ("status", "302"), ("view", "home")))
    client.get("/")
    client.get("/")
    after = _scrape()
    assert after[key] - before.get(key, 0) == 2
    timed = ("vouch_http_request_duration_seconds_count", (("method", "GET"), ("view", "home")))
    assert after[timed] - before.get(timed, 0) == 2


def test_the_outbox_backlog_and_its_age(token) -> None:
    assert _scrape()[("vouch_outbox_backlog", ())] == 0
    now = timezone.now()
    OutboxTask.objects.create(task="core.tasks.x", created_at=now - timedelta(minutes=5))
    OutboxTask.objects.create(task="core.tasks.y", created_at=now - timedelta(minutes=1))
    OutboxTask.objects.create(task="core.tasks.z", created_at=now, sent_at=now)  # delivered
    with mock.patch("django.utils.timezone.now", return_value=now):
        figures = _scrape()
    assert figures[("vouch_outbox_backlog", ())] == 2
    assert figures[("vouch_outbox_oldest_age_seconds", ())] == 300


def test_campaign_sending_progress_and_rate(token, advocate) -> None:
    campaign = Campaign.objects.create(
        name="Drive",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        status=Campaign.Status.SENDING,
        segment=Segment.objects.create(name="All", filters={}),
        subject="Hi",
        body="Hello",
    )
    now = timezone.now()
    statuses = ["sent", "sent", "sent", "pending", "failed"]
    for n, status in enumerate(statuses):
        CampaignMessage.objects.create(
            campaign=campaign,
            email=f"r{n}@example.com",
            status=status,
            sent_at=now - timedelta(seconds=30 if n else 300) if status == "sent" else None,
        )
    with mock.patch("django.utils.timezone.now", return_value=now):
        figures = _scrape()
    assert figures[("vouch_campaign_messages", (("status", "sent"),))] == 3
    assert figures[("vouch_campaign_messages", (("status", "pending"),))] == 1
    assert figures[("vouch_campaign_messages", (("status", "failed"),))] == 1
    assert figures[("vouch_campaign_messages_sent_last_minute", ())] == 2


@pytest.mark.worker
def test_queue_length_is_read_from_redis(settings) -> None:
    if not django_settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL to run it")
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"  # the broker's database: a fresh name
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    broker = redis.Redis.from_url(django_settings.REDIS_URL)
    broker.rpush(queue, "a", "b", "c")
    try:
        figures = _scrape()
    finally:
        broker.delete(queue)
    assert figures[("vouch_celery_queue_length", (("queue", queue),))] == 3
