"""Cursor pagination over (timestamp, id), and the ``updated_since`` filter.

Rows come oldest change first; the cursor is the (timestamp, id) of the last row served,
so a page never repeats or skips a row because rows were added or changed meanwhile (an
offset would): a row changed after it was served moves behind the cursor and comes again
on a later page, which is what a sync client wants. The cursor is not signed: it only
says where to resume in a list the key may read anyway, and a malformed one is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from api.auth import APIProblem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def cursor_encode(stamp: datetime, pk: int) -> str:
    raw = json.dumps([stamp.astimezone(UTC).isoformat(), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise APIProblem(
            400, "Bad Request", "Malformed cursor: use the next link as given."
        ) from error
    return at, pk


def as_utc(moment: datetime) -> datetime:
    """A time without an offset is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def page(
    request: HttpRequest,
    rows: QuerySet[Any],
    *,
    field: str,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of ``rows`` ordered by (``field``, id): ``{"results": [...], "next": url}``."""
    rows = rows.order_by(field, "id")
    if updated_since is not None:
        # Inclusive: times are served to the millisecond, so a client that passes back
        # the last time it saw gets that row again rather than missing its neighbours.
        rows = rows.filter(**{f"{field}__gte": as_utc(updated_since)})
    if cursor:
        at, pk = cursor_decode(cursor)
        rows = rows.filter(Q(**{f"{field}__gt": at}) | Q(**{field: at, "id__gt": pk}))
    found: list[Model] = list(rows[: limit + 1])
    results = found[:limit]
    next_url = None
    if len(found) > limit:
        last = results[-1]
        query = {"limit": limit, "cursor": cursor_encode(getattr(last, field), last.pk)}
        if updated_since is not None:
            query["updated_since"] = request.GET.get("updated_since", "")
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    return {"results": results, "next": next_url}
