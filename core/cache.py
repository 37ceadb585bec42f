"""The Redis cache, made to degrade instead of failing pages when Redis is down.

Django's RedisCache raises on every call while Redis is unreachable, and the cache is
read on every page (ProgramSettings.load) and by every login (allauth's rate limits):
one Redis outage would turn the whole site into 500s. This backend answers from a
per-process memory cache instead, and stops trying Redis for ``RETRY_AFTER`` seconds
after a failure, so a request pays the (short) connect timeout at most once per period.

What that means while Redis is down (docs/reliability.md, "Redis down"):
- pages serve; cached values (program settings) are read from the database again;
- rate limits (allauth login failures and password resets, the referral landing form)
  still apply, but counted per web process: they degrade to "limit x processes", they
  do not switch off and do not lock everyone out;
- a value deleted during the outage (ProgramSettings.save) may be read stale from
  Redis afterwards until its timeout (5 minutes at most).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from typing import Any

import redis.exceptions
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
RETRY_AFTER = 5.0


class _Outage:
    """Process-wide: Django makes one cache object per thread, they share this state."""

    lock = threading.Lock()
    down_until = 0.0
    since: float | None = None


class _ClientPerPool(RedisCacheClient):
    """Django's client builds a new ``redis.Redis`` for every cache call, and each one
    sets up its ~170 response callbacks: a third of a cache read's own time on a page
    that reads the cache three times. One client per connection pool does: a
    ``redis.Redis`` is safe to share between threads, its pool hands out connections
    (and makes new ones after a fork)."""

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined] # Django's, unstubbed
        clients = self.__dict__.setdefault("_clients_by_pool", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ClientPerPool
        # LocMemCache shares its storage between instances of the same name: one
        # fallback store per process, whichever thread's cache object uses it.
        self._fallback = LocMemCache(
            "vouch-redis-fallback",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
                "OPTIONS": {"MAX_ENTRIES": 5000},
            },
        )

    @staticmethod
    def redis_down() -> bool:
        return time.monotonic() < _Outage.down_until

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.redis_down():
            try:
                result = getattr(RedisCache, name)(self, *args, **kwargs)
            except REDIS_ERRORS as error:
                with _Outage.lock:
                    _Outage.down_until = time.monotonic() + RETRY_AFTER
                    first = _Outage.since is None
                    _Outage.since = _Outage.since or time.monotonic()
                if first:
                    logger.error("Redis cache unreachable, using process memory: %s", error)
            else:
                if _Outage.since is not None:
                    with _Outage.lock:
                        if _Outage.since is not None:
                            logger.warning(
                                "Redis cache back after %.0f s", time.monotonic() - _Outage.since
                            )
                            _Outage.since = None
                            self._new_epoch()
                return result
        return getattr(self._fallback, name)(*args, **kwargs)

    def _new_epoch(self) -> None:
        """A version dropped during the outage may still be in Redis: start every
        cached fragment afresh (core.fragments)."""
        with contextlib.suppress(*REDIS_ERRORS):  # down again: the next recovery drops it
            RedisCache.delete(self, FRAGMENTS_EPOCH_KEY)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        return self._call("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> None:
        return self._call("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        return self._call("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> bool:
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> int:
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> list[str]:
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        return self._call("delete_many", *args, **kwargs)

    def clear(self) -> None:
        return self._call("clear")


# --- Versions: dropping many cached values at once -----------------------------------------

# Bumped by every service that makes some advocate askable again or a better fit (a
# profile saved, an ask declined or expired, a pause lifted): reference matching keeps
# each request's scored band under this version (references.matching).
ADVOCATES_GENERATION_KEY = "references:matching:generation:v1"

# Bumped by every service that changes who is invited or enrolled (an invitation sent,
# an invitation accepted, advocates imported): the console home keeps its program
# cards and charts under this version (console.selectors.home), and figures computed
# under an older one are recomputed on the next visit instead of waiting for the beat.
# Defined here, not in the console, so that the apps below it can bump it.
CONSOLE_FIGURES_VERSION_KEY = "console:figures:version"

# Every cached page fragment (core.fragments) has this version in its key: deleted when
# the program's settings change (its name and words are in many fragments) and when
# Redis answers again after an outage.
FRAGMENTS_EPOCH_KEY = "fragments:epoch"


def cache_version(key: str) -> str:
    """The current version stored under ``key`` (started when missing).

    Cached values that depend on some data put this version in their own keys; changing
    the version (``cache_version_bump``) makes them all unreadable at once. A random
    value, not a counter restarting at 1: values cached under a version that was lost
    (Redis emptied) can never be read again under a new one.
    """
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)  # a racing process may win
        version = cache.get(key, "")
    return version


def cache_version_bump(key: str) -> None:
    """A new version under ``key`` once the current transaction commits.

    After commit, so a reader never caches figures under the new version from a
    snapshot without the write; a rolled-back write changes nothing.
    """
    transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, timeout=None))
