"""Writes for API keys: create (the key is returned once), revoke, and mark as used."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.keys import VISIBLE_CHARS, key_hash, token_new
from api.models import APIKey
from api.scopes import SCOPES
from core.audit import audit_record

Actor = AbstractBaseUser | AnonymousUser | None

# last_used_at is written at most this often per key: a busy sync client would otherwise
# write the key's row on every request.
USED_RESOLUTION = timedelta(minutes=1)


class APIKeyError(Exception):
    """A refused console action; the message is fit to show the manager."""


def api_key_create(
    *, name: str, scopes: Sequence[str], expires_at: datetime | None = None, by: Actor
) -> tuple[APIKey, str]:
    """A new key and its secret (``vch_...``): the only time the secret exists in clear."""
    name = name.strip()
    if not name:
        raise APIKeyError(_("Give the key a name, e.g. the system that will use it."))
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise APIKeyError(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)})
    if not scopes:
        raise APIKeyError(_("Choose at least one scope: a key without one can read nothing."))
    if expires_at is not None and expires_at <= timezone.now():
        raise APIKeyError(_("The expiry date must be in the future."))
    token = token_new()
    with transaction.atomic():
        key = APIKey.objects.create(
            name=name[:100],
            prefix=token[:VISIBLE_CHARS],
            key_hash=key_hash(token),
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
            created_by_id=by.pk if by is not None and by.is_authenticated else None,
        )
        audit_record(
            actor=by,
            action="api_key.create",
            target=key,
            detail={
                "scopes": key.scopes,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return key, token


def api_key_revoke(*, key_id: int, by: Actor) -> bool:
    """Revoke a key at once (its next request gets 401). False if it already was."""
    with transaction.atomic():
        # The conditional update decides who revoked it: a double click audits once.
        revoked = APIKey.objects.filter(pk=key_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now(),
            revoked_by_id=by.pk if by is not None and by.is_authenticated else None,
        )
        if revoked:
            audit_record(actor=by, action="api_key.revoke", target=APIKey.objects.get(pk=key_id))
    return bool(revoked)


def api_key_used(*, key: APIKey, now: datetime | None = None) -> None:
    """Move ``last_used_at`` forward, at most once per ``USED_RESOLUTION`` per key.

    The cache entry keeps the database out of most requests; the conditional update
    keeps two processes (or a cache without Redis) from writing the row twice a minute.
    """
    now = now or timezone.now()
    if not cache.add(f"api:used:{key.pk}", 1, timeout=int(USED_RESOLUTION.total_seconds())):
        return
    APIKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - USED_RESOLUTION)
    ).update(last_used_at=now)
