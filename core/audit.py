"""The audit log of manager actions: who approved, refunded, edited points, changed settings.

Call ``audit_record`` inside the service's transaction, so an action and its audit entry
commit or roll back together.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils import translation

from core.models import AuditEntry


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that ``actor`` did ``action`` (dotted, e.g. "redemption.refund") to ``target``.

    The target is named in the site's language, whatever language the actor reads in (a
    challenge's title has a text per language)."""
    with translation.override(settings.LANGUAGE_CODE):
        target_repr = str(target)[:200] if target is not None else ""
    return AuditEntry.objects.create(
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=target_repr,
        detail=detail or {},
    )


# --- Reading the log (the console's audit page) ------------------------------------------


def audit_entries(*, action: str = "", actor_id: int | None = None) -> models.QuerySet[AuditEntry]:
    """Entries newest first, optionally of one action and/or one actor."""
    entries = AuditEntry.objects.select_related("actor").order_by("-created_at", "-id")
    if action:
        entries = entries.filter(action=action)
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    return entries


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def audit_actors() -> list[AbstractBaseUser]:
    return list(
        get_user_model()
        .objects.filter(audit_entries__isnull=False)
        .distinct()
        .order_by("email")
        .only("id", "email", "first_name", "last_name")
    )
