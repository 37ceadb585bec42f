"""Invitations never wait behind a campaign: bulk work has its own queue."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.conf import settings as django_settings

from config.celery_app import app
from core.queues import bulk_queue_for, task_named

BULK = [
    "campaigns.sending.campaign_send_batch",
    "campaigns.sending.campaigns_dispatch_due",
    "campaigns.triggers.triggers_evaluate",
    "campaigns.ams.ams_recompute_all",
    "campaigns.console.console_charts_refresh_task",
    "referrals.tasks.import_job_run",
]
TRANSACTIONAL = [
    "advocates.tasks.invitation_send",
    "referrals.tasks.referral_notify_rep",
    "references.tasks.prospect_link_send",
    "advocates.tasks.outbox_drain",
]


def _queue(name: str, *, by_name: bool = False) -> str:
    task = None if by_name else task_named(name)
    return app.amqp.router.route({}, name, task_type=task)["queue"].name


@pytest.mark.parametrize("name", BULK)
def test_bulk_work_goes_to_the_bulk_queue(name: str) -> None:
    assert _queue(name) == "vouch-bulk"
    assert _queue(name, by_name=True) == "vouch-bulk"  # the outbox sends by name


@pytest.mark.parametrize("name", TRANSACTIONAL)
def test_what_a_person_waits_for_goes_to_the_default_queue(name: str) -> None:
    assert _queue(name) == "vouch"
    assert _queue(name, by_name=True) == "vouch"


def test_a_worker_without_q_consumes_both_queues() -> None:
    # A small installation runs one `celery -A config worker`: nothing may be stranded.
    assert {q.name for q in app.conf.task_queues} == {"vouch", "vouch-bulk"}


@pytest.mark.worker
def test_a_campaign_batch_waits_in_its_own_redis_list() -> None:
    if not django_settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL to run it")
    queue = f"queues-test-{uuid.uuid4().hex[:8]}"  # no worker reads it
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    try:
        task_named("campaigns.sending.campaign_send_batch").apply_async((1,))
        task_named("advocates.tasks.invitation_send").apply_async((1, 1))
        # Two lists in Redis: a worker started with `-Q <default>` takes the invitation
        # however long the bulk list is.
        assert broker.llen(bulk_queue_for(queue)) == 1
        assert broker.llen(queue) == 1
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        broker.delete(queue, bulk_queue_for(queue))
