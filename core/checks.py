"""System checks for deployments (``manage.py check --deploy`` and every ``migrate``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def tasks_not_in_process_in_production(**kwargs: Any) -> list[Error]:
    """Without a broker, Celery tasks run inside the request that queued them: a campaign
    of 100,000 emails would be sent by a manager's click, in a web process, until the
    proxy's timeout killed it half-way. Fine for ``make run``; an error in production."""
    if settings.DEBUG or not settings.CELERY_TASK_ALWAYS_EAGER:
        return []
    return [
        Error(
            "Celery tasks would run inside web requests (no REDIS_URL, or "
            "CELERY_TASK_ALWAYS_EAGER=true) with DEBUG=false.",
            hint="Set REDIS_URL and run workers (README: Production). To accept in-process "
            "tasks anyway, add vouch.E001 to SILENCED_SYSTEM_CHECKS.",
            id="vouch.E001",
        )
    ]
