"""Two beats running: only one fires the schedule; the other takes over when it stops."""

from __future__ import annotations

import time
import uuid
from unittest import mock

import pytest
import redis
from django.conf import settings as django_settings

from config.celery_app import app
from core.beat import STANDBY_SECONDS, BeatLease, SingleBeatScheduler

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


@pytest.fixture
def redis_url() -> str:
    if not django_settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL to run it")
    return django_settings.REDIS_URL


@pytest.fixture
def key(redis_url):
    name = f"test:beat:{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(redis_url).delete(name)


def test_one_lease_holder_at_a_time(redis_url, key) -> None:
    first, second = BeatLease(redis_url, key=key), BeatLease(redis_url, key=key)
    assert first.hold() is True
    assert second.hold() is False
    assert first.hold() is True  # renewing its own lease
    first.release()  # a clean shutdown hands over at once
    assert second.hold() is True
    assert first.hold() is False


def test_a_crashed_leader_is_replaced_when_its_lease_runs_out(redis_url, key) -> None:
    first, second = BeatLease(redis_url, key=key), BeatLease(redis_url, key=key)
    assert first.hold()
    # The leader dies without releasing: its lease expires (made to expire now).
    client = redis.Redis.from_url(redis_url)
    client.pexpire(key, 1)
    deadline = time.monotonic() + 10
    while client.exists(key):  # the event: Redis dropped the key
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert second.hold() is True
    assert first.hold() is False


def test_only_the_leading_scheduler_fires(redis_url, key, settings) -> None:
    settings.REDIS_URL = redis_url
    lease_key = key
    fired: list[str] = []

    def fire(self, *args, **kwargs):
        fired.append(self.lease.token)
        return 1.0

    with mock.patch("django_celery_beat.schedulers.DatabaseScheduler.tick", fire):
        one = SingleBeatScheduler(app=app, lazy=True)
        two = SingleBeatScheduler(app=app, lazy=True)
        for lease in (one.lease, two.lease):
            lease.key = lease_key  # this test's own key, not the running beats' one
        try:
            waits = [one.tick(), two.tick(), one.tick(), two.tick()]
        finally:
            one.lease.release()
            two.lease.release()
    assert fired == [one.lease.token, one.lease.token]
    assert waits == [1.0, STANDBY_SECONDS, 1.0, STANDBY_SECONDS]


def test_without_redis_it_is_the_plain_scheduler(settings) -> None:
    settings.REDIS_URL = ""
    with mock.patch("django_celery_beat.schedulers.DatabaseScheduler.tick", return_value=7.0):
        scheduler = SingleBeatScheduler(app=app, lazy=True)
        assert scheduler.lease is None
        assert scheduler.tick() == 7.0
