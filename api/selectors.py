"""Reads for API keys: the console's list, and the key a request presents."""

from __future__ import annotations

from django.db.models import QuerySet

from api.keys import KEY_PREFIX, key_hash
from api.models import APIKey


def api_keys_listed() -> QuerySet[APIKey]:
    """Every key, newest first, with who created and revoked it."""
    return APIKey.objects.select_related("created_by", "revoked_by").order_by("-created_at", "-id")


def api_key_for_token(token: str) -> APIKey | None:
    """The key whose secret is ``token`` (revoked and expired ones too), or None."""
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    return APIKey.objects.filter(key_hash=key_hash(token)).first()
