"""One sync of one CRM connection: read every object changed since its cursor, page by
page, then write what Vouch owes the CRM. Recorded as a ``SyncRun`` with counts and the
records that failed.

- A page is applied in one transaction, and its cursor saved with it: a run stopped
  half-way (429, crash, deploy) resumes after the last page it applied, and re-reading a
  page is harmless (records are matched by their CRM id, unchanged ones write nothing).
- An access token refused (401) is refreshed once and the call repeated; a refused
  refresh marks the connection "Needs reconnecting".
- 429 and 5xx stop the run as "Paused, will retry": the task retries it with backoff
  (the CRM's Retry-After when given).
- One run per connection at a time: the connection row is locked for the claim, and a
  second run finds the first running and leaves.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.crm import base, inbound, outbound
from integrations.crm.models import CrmConnection, RecordError, SyncCursor, SyncRun
from integrations.crm.providers import provider_for
from integrations.crm.tokens import tokens_fields, tokens_of
from integrations.crypto import TokenUnreadable

log = logging.getLogger(__name__)

# A run still "running" after this long died with its worker: another may start.
RUN_STALE = timedelta(hours=1)
# Errors kept per run (the counts say how many there were in all).
ERRORS_KEPT = 500
# Pages read per object per run at most; the cursor lets the next run carry on.
MAX_PAGES = 500


class SyncBusy(Exception):
    """Another run of this connection is in progress."""


class Session:
    """A connection's tokens for one run, refreshed when the CRM refuses them."""

    def __init__(self, connection: CrmConnection, provider: base.Provider) -> None:
        self.connection, self.provider = connection, provider
        self.tokens = tokens_of(connection)

    def _refresh(self) -> None:
        fresh = self.provider.refresh(self.tokens)
        CrmConnection.objects.filter(pk=self.connection.pk).update(
            **tokens_fields(fresh, keep_refresh=self.connection.refresh_token_encrypted),
            updated_at=timezone.now(),
        )
        self.connection.refresh_from_db()
        self.tokens = tokens_of(self.connection)

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        expires_at = self.tokens.expires_at
        if expires_at is not None and expires_at <= timezone.now() + timedelta(minutes=1):
            self._refresh()
        try:
            return method(self.tokens, *args, **kwargs)
        except base.TokenExpired:
            self._refresh()
            return method(self.tokens, *args, **kwargs)


def connection_break(connection: CrmConnection, reason: str) -> None:
    CrmConnection.objects.filter(pk=connection.pk).update(
        status=CrmConnection.Status.BROKEN,
        broken_reason=reason[:300],
        broken_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _claim(connection_id: int, trigger: str, requested_by: Any) -> tuple[CrmConnection, SyncRun]:
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().get(pk=connection_id)
        if not connection.active:
            raise SyncBusy(f"{connection} needs reconnecting.")
        running = connection.runs.filter(
            status__in=(SyncRun.Status.RUNNING,), started_at__gt=timezone.now() - RUN_STALE
        ).exists()
        if running:
            raise SyncBusy(f"A sync of {connection} is already running.")
        run = SyncRun.objects.create(
            connection=connection, trigger=trigger, requested_by=requested_by
        )
    return connection, run


def _record(run: SyncRun, object_name: str, direction: str, done: inbound.Applied) -> None:
    if not done.errors:
        return
    kept = run.errors.count()
    RecordError.objects.bulk_create(
        [
            RecordError(
                run=run,
                object_name=object_name,
                direction=direction,
                external_id=external_id[:64],
                local=local[:200],
                message=message[:500],
            )
            for external_id, local, message in done.errors[: max(0, ERRORS_KEPT - kept)]
        ]
    )


def _merge(counts: dict[str, dict[str, int]], key: str, done: inbound.Applied) -> None:
    merged = Counter(counts.get(key, {}))
    merged.update(done.counts)
    counts[key] = dict(merged)


def sync_run(
    *,
    connection_id: int,
    trigger: str = SyncRun.Trigger.SCHEDULE,
    requested_by: Any = None,
) -> SyncRun:
    """Run one sync of the connection (raises SyncBusy, or RetryLater after recording it)."""
    connection, run = _claim(connection_id, trigger, requested_by)
    provider = provider_for(connection.provider)
    counts: dict[str, dict[str, int]] = {}
    try:
        session = Session(connection, provider)
        for object_name in base.OBJECTS:
            cursor_row, _ = SyncCursor.objects.get_or_create(
                connection=connection, object_name=object_name
            )
            cursor, page_token = cursor_row.value, None
            for _page in range(MAX_PAGES):
                page: base.Page = session.call(
                    provider.fetch, object_name, cursor=cursor, page=page_token
                )
                with transaction.atomic():
                    done = inbound.apply(connection, provider, object_name, page.records)
                    SyncCursor.objects.filter(pk=cursor_row.pk).update(
                        value=page.cursor[:64], updated_at=timezone.now()
                    )
                _record(run, object_name, "in", done)
                _merge(counts, object_name, done)
                page_token = page.next_page
                if not page_token:
                    break
        connection.refresh_from_db()
        out_steps = (
            (
                "referrals",
                lambda: outbound.referrals_push(
                    connection, provider, session.call, outbound.referrals_pending(connection)
                ),
            ),
            ("companies", lambda: outbound.companies_write(connection, provider, session.call)),
            ("deals", lambda: outbound.deals_write(connection, provider, session.call)),
        )
        for object_name, step in out_steps:
            done = step()
            _record(run, object_name, "out", done)
            _merge(counts, "out", done)
    except base.RetryLater as error:
        _finish(run, SyncRun.Status.RETRYING, counts, str(error))
        raise
    except (base.AuthRevoked, TokenUnreadable) as error:
        connection_break(connection, str(error))
        _finish(run, SyncRun.Status.FAILED, counts, f"The CRM refused Vouch's access: {error}")
        return run
    except Exception as error:
        log.exception("CRM sync of %s failed", connection)
        _finish(run, SyncRun.Status.FAILED, counts, f"Stopped by an error: {error}")
        raise
    failed = run.errors.exists()
    _finish(run, SyncRun.Status.PARTIAL if failed else SyncRun.Status.SUCCEEDED, counts, "")
    return run


def _finish(run: SyncRun, status: str, counts: dict, message: str) -> None:
    run.status, run.counts, run.message = status, counts, message[:500]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "counts", "message", "finished_at"])
