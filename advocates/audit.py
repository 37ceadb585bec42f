"""The audit log of manager actions: who approved, refunded, edited points, changed settings.

Call ``audit_record`` inside the service's transaction, so an action and its audit entry
commit or roll back together.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from advocates.models import AuditEntry, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that ``actor`` did ``action`` (dotted, e.g. "redemption.refund") to ``target``."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        detail=detail or {},
    )
