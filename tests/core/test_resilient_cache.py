"""The Redis cache degrades to process memory while Redis is down (core/cache.py).

Pointed at a port where nothing listens, every call answers (from memory) instead of
raising; the login rate limit still counts failures, per process.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache.backends.redis import RedisCacheClient
from django.test import Client
from django.urls import reverse

from core import cache as resilient
from tests.integration.processes import free_port

TOO_MANY = "Too many failed login attempts"


@pytest.fixture
def dead_redis_cache(settings, monkeypatch):
    monkeypatch.setattr(resilient._Outage, "down_until", 0.0)
    monkeypatch.setattr(resilient._Outage, "since", None)
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    from django.core.cache import cache

    cache.clear()
    return cache


def test_every_cache_call_answers_while_redis_is_down(dead_redis_cache, monkeypatch) -> None:
    cache = dead_redis_cache
    # The fixture's clear() met the refused connection: from then on every call answers
    # from memory without going back to Redis.
    assert resilient.ResilientRedisCache.redis_down()
    connections = []
    real_get_client = RedisCacheClient.get_client

    def counting_get_client(self, *args, **kwargs):
        connections.append(1)
        return real_get_client(self, *args, **kwargs)

    monkeypatch.setattr(RedisCacheClient, "get_client", counting_get_client)

    assert cache.get("missing") is None
    assert cache.add("counter", 1) is True
    assert cache.incr("counter") == 2
    cache.set("k", "v", 60)
    assert cache.get("k") == "v"
    assert cache.get_many(["k", "counter"]) == {"k": "v", "counter": 2}
    assert cache.has_key("k")
    assert cache.delete("k") is True
    with pytest.raises(ValueError, match="never-set"):
        cache.incr("never-set")  # the same error Django's RedisCache raises
    assert connections == []  # one refused connection (the fixture's), then memory
    assert resilient.ResilientRedisCache.redis_down()


def test_redis_is_tried_again_after_a_few_seconds(dead_redis_cache, monkeypatch) -> None:
    calls = []
    real_get = resilient.RedisCache.get

    def counting_get(self, *args, **kwargs):
        calls.append(1)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(resilient.RedisCache, "get", counting_get)
    monkeypatch.setattr(resilient._Outage, "down_until", 0.0)
    dead_redis_cache.get("a")
    dead_redis_cache.get("b")
    assert len(calls) == 1  # the second read went straight to memory
    monkeypatch.setattr(resilient._Outage, "down_until", time.monotonic() - 1)
    dead_redis_cache.get("c")
    assert len(calls) == 2


@pytest.mark.django_db
def test_pages_and_login_work_and_failed_logins_are_still_limited(
    dead_redis_cache, advocate
) -> None:
    client = Client()
    assert client.get(reverse("account_login")).status_code == 200

    answers = [
        client.post(reverse("account_login"), {"login": advocate.user.email, "password": "wrong"})
        for _ in range(6)
    ]
    # allauth's "5/5m/key" limit on failed logins still applies, counted in memory.
    assert [answer.status_code for answer in answers] == [200] * 6
    assert not any(TOO_MANY in answer.content.decode() for answer in answers[:5])
    assert TOO_MANY in answers[5].content.decode()
