"""Who may call the API: a key in ``Authorization: Bearer vch_...``, its scope, its rate.

Every failure is an ``APIProblem`` that the API turns into an RFC 9457 problem body:
no key, an unknown, revoked or expired one → 401; a valid key without the operation's
scope → 403; a key over its rate → 429 with ``Retry-After``. A session cookie counts
for nothing here: the API is for other systems, which hold keys.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import HttpBearer

from api.models import APIKey
from api.selectors import api_key_for_token
from api.services import api_key_used

RATE_WINDOW_SECONDS = 60


class APIProblem(Exception):
    def __init__(
        self, status: int, title: str, detail: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}


def unauthorized(detail: str) -> APIProblem:
    return APIProblem(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="vouch"'}
    )


class KeyAuth(HttpBearer):
    """The key must hold ``scope``. One instance per scope; OpenAPI shows one scheme."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> Any:
        if not request.headers.get("Authorization"):
            raise unauthorized("Send an API key: Authorization: Bearer vch_…")
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> APIKey:
        key = api_key_for_token(token.strip())
        if key is None:
            raise unauthorized("Unknown API key.")
        if key.revoked_at is not None:
            raise unauthorized("This API key was revoked.")
        if not key.is_usable():
            raise unauthorized("This API key has expired.")
        _rate_check(request, key)
        api_key_used(key=key)
        if self.scope not in key.scopes:
            raise APIProblem(403, "Forbidden", f"This API key lacks the scope {self.scope}.")
        return key


def _rate_check(request: HttpRequest, key: APIKey) -> None:
    """A fixed one-minute window per key, counted in the shared cache (Redis), so every
    web process counts against the same limit. The window's count and end ride on the
    request for the RateLimit headers of the response (api.v1.VouchAPI)."""
    limit = settings.API_RATE_LIMIT
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    reset = max(1, int((window + 1) * RATE_WINDOW_SECONDS - now + 0.999))
    name = f"api:rate:{key.pk}:{window}"
    cache.add(name, 0, timeout=RATE_WINDOW_SECONDS + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=RATE_WINDOW_SECONDS + 5)
        count = 1
    request.vouch_rate = (limit, max(0, limit - count), reset)  # type: ignore[attr-defined]
    if count > limit:
        raise APIProblem(
            429,
            "Too Many Requests",
            f"This key may make {limit} requests a minute; try again in {reset} s.",
            headers={"Retry-After": str(reset)},
        )
