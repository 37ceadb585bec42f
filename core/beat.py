"""A beat that is safe to run twice: only one of them fires the schedule.

``celery beat`` keeps no lock of its own: two beat processes (a second one started by
mistake, or one on each of two machines for availability) would each send every
periodic task. Our tasks are idempotent, so that would waste work rather than break
anything, but it also doubles the load of the heavy ones. ``SingleBeatScheduler`` is
django-celery-beat's ``DatabaseScheduler`` behind a lease in Redis: the beat holding
the lease fires the schedule and renews the lease on every tick; the others wait,
checking every few seconds, and one of them takes over within ``LEASE_SECONDS`` of the
leader stopping (at once when it shuts down cleanly). Without Redis (the embedded
mode, tasks in-process) there is nothing to share and it is the plain scheduler.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import uuid
from typing import Any

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

LEASE_KEY = "vouch:beat:leader"
LEASE_SECONDS = 30
STANDBY_SECONDS = 5  # how often a waiting beat checks the lease


class BeatLease:
    """Who fires the schedule: a Redis key holding the leader's token, with a TTL."""

    # Renew only our own lease; take a free one. Atomic, so two beats never both lead.
    _CLAIM = """
    local holder = redis.call('GET', KEYS[1])
    if holder == ARGV[1] then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
    end
    if not holder then
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
    end
    return 0
    """
    _RELEASE = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """

    def __init__(self, url: str, *, key: str = LEASE_KEY, seconds: int = LEASE_SECONDS) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        self.key, self.ms = key, seconds * 1000
        self.token = f"{socket.gethostname()}:{uuid.uuid4().hex}"
        self.leading: bool | None = None  # unknown until the first check (then logged)

    def hold(self) -> bool:
        """True if this beat leads now (the lease is taken or renewed)."""
        try:
            leading = bool(self.client.eval(self._CLAIM, 1, self.key, self.token, self.ms))
        except redis.RedisError as error:
            # Without Redis nothing can be sent anyway: wait rather than risk two leaders.
            logger.warning("beat: the lease cannot be checked (%s); waiting", error)
            leading = False
        if leading != self.leading:
            logger.info("beat: %s", "leading" if leading else "standing by")
            self.leading = leading
        return leading

    def release(self) -> None:
        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            self.client.eval(self._RELEASE, 1, self.key, self.token)
        self.leading = False


class SingleBeatScheduler(DatabaseScheduler):
    """``CELERY_BEAT_SCHEDULER``: the database schedule, fired by one beat at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lease = BeatLease(settings.REDIS_URL) if settings.REDIS_URL else None
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.lease is None:
            return super().tick(*args, **kwargs)
        if not self.lease.hold():
            return STANDBY_SECONDS
        # Come back before the lease runs out, however far the next task is.
        return min(super().tick(*args, **kwargs), LEASE_SECONDS / 3)

    def close(self) -> None:
        super().close()
        if self.lease is not None:
            self.lease.release()  # a standby takes over at its next check
