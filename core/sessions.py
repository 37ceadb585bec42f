"""Sessions in the cache with the database behind them (Django's ``cached_db``): Redis
in production, process memory in the embedded mode. A page reads its session from the
cache; every change is written to the database first, so nothing is lost when Redis
restarts or is emptied (the next read fills the cache again from the database).

One difference from ``cached_db``: a cached copy lives ``CACHE_SECONDS`` at most, not
the session's whole age. While Redis is unreachable the cache answers from each web
process's own memory (core.cache.ResilientRedisCache), so a sign-out seen by one
process, or one that could not reach Redis to drop its copy, would otherwise leave a
copy that still signs the browser in elsewhere for up to two weeks; now for five
minutes at most, as with every other cached value during an outage
(docs/reliability.md). Reading a session from the database once every five minutes
costs nothing measurable.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches

from core.models import program_settings_cache_key, program_settings_fetched

CACHE_SECONDS = 300


class _ShortLived:
    """The session cache with every entry's timeout capped at ``CACHE_SECONDS``
    (cached_db asks for the session's expiry age)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def set(self, key: str, value: Any, timeout: Any = None, **kwargs: Any) -> None:
        self._cache.set(key, value, _capped(timeout), **kwargs)

    async def aset(self, key: str, value: Any, timeout: Any = None, **kwargs: Any) -> None:
        await self._cache.aset(key, value, _capped(timeout), **kwargs)


def _capped(timeout: Any) -> int:
    return CACHE_SECONDS if timeout is None else min(int(timeout), CACHE_SECONDS)


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache: Any = _ShortLived(caches[settings.SESSION_CACHE_ALIAS])

    def load(self) -> dict[str, Any]:
        """The session, and with it in one round trip the program settings every page
        shows (core.models.ProgramSettings.load), when both live in the same cache."""
        settings_key = program_settings_cache_key()
        if settings_key is None or settings.SESSION_CACHE_ALIAS != "default":
            return super().load()
        found = self._cache.get_many([self.cache_key, settings_key])
        program_settings_fetched(found.get(settings_key))
        data = found.get(self.cache_key)
        return data if data is not None else super().load()
