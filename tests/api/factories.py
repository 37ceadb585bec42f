"""API keys for tests, made through the service (the only way the console makes them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from api.models import APIKey
from api.scopes import SCOPES
from api.services import api_key_create


def api_key(
    scopes: Sequence[str] = tuple(SCOPES),
    *,
    name: str = "Test sync",
    expires_at: datetime | None = None,
    by=None,
) -> tuple[APIKey, str]:
    return api_key_create(name=name, scopes=scopes, expires_at=expires_at, by=by)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
