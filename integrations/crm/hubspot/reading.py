"""Reading HubSpot: incremental pages of companies, contacts and deals, and the owners.

Reading is incremental through the CRM search API: records whose last-modified stamp is
at or after the cursor, oldest first, paged by ``after``. Search refuses to page past
10,000 results for one query, so when ``after`` reaches that window the next page is a
new search starting at the newest stamp seen (records sharing that stamp come again; the
sync's upserts make that harmless). Owners have no modified filter: all of them, each run.
Search returns no associations, so a page of deals asks the associations API for their
companies.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from hubspot import Client

from integrations.crm.base import Owner, Page
from integrations.crm.hubspot.api import _call
from integrations.crm.hubspot.records import (
    MODIFIED,
    PROPERTIES,
    _millis,
    _page_token,
    _parse_stamp,
    _record,
    _stamp,
)

PAGE_SIZE = 100
# HubSpot's search refuses `after` beyond 10,000 results for one query.
SEARCH_WINDOW = 10_000
# HUBSPOT_DEFINED association type id (HubSpot's associations v4 reference).
PRIMARY_DEAL_TO_COMPANY = 5


def fetch(client: Client, object_name: str, *, cursor: str, page: str | None) -> Page:
    """One page of ``object_name`` (integrations.crm.base.Provider.fetch)."""
    if object_name == "owners":
        return _owners(client, cursor=cursor, page=page)
    if object_name not in PROPERTIES:
        raise ValueError(f"HubSpot has no {object_name!r} to sync")
    since, after = _page_token(page, cursor)
    body: dict[str, Any] = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": MODIFIED[object_name],
                        "operator": "GTE",
                        "value": str(since),
                    }
                ]
            }
        ]
        if since
        else [],
        "sorts": [{"propertyName": MODIFIED[object_name], "direction": "ASCENDING"}],
        "properties": PROPERTIES[object_name],
        "limit": PAGE_SIZE,
    }
    if after:
        body["after"] = after
    search = getattr(client.crm, object_name).search_api
    answer = _call(
        lambda: search.do_search(
            public_object_search_request=body, _request_timeout=settings.CRM_TIMEOUT_SECONDS
        )
    )
    rows = list(answer.results or [])
    companies = _deal_companies(client, rows) if object_name == "deals" else {}
    records = [_record(object_name, row, companies) for row in rows]
    stamps = [r.modified_at for r in records if r.modified_at]
    newest = max(stamps) if stamps else None
    new_cursor = cursor
    if newest and (not cursor or newest > _parse_stamp(cursor)):
        new_cursor = _stamp(newest)
    next_after = answer.paging.next.after if answer.paging and answer.paging.next else None
    next_page: str | None = None
    if next_after:
        if int(next_after) + PAGE_SIZE > SEARCH_WINDOW and newest:
            next_page = f"{_millis(newest)}:"
        else:
            next_page = f"{since}:{next_after}"
    return Page(records=records, cursor=new_cursor, next_page=next_page)


def _owners(client: Client, *, cursor: str, page: str | None) -> Page:
    owners_api = client.crm.owners.owners_api
    answer = _call(
        lambda: owners_api.get_page(
            limit=PAGE_SIZE,
            archived=False,
            **({"after": page} if page else {}),
            _request_timeout=settings.CRM_TIMEOUT_SECONDS,
        )
    )
    records = [
        Owner(
            external_id=str(o.id),
            email=o.email or "",
            first_name=o.first_name or "",
            last_name=o.last_name or "",
            active=not o.archived,
        )
        for o in answer.results or []
    ]
    next_after = answer.paging.next.after if answer.paging and answer.paging.next else None
    return Page(records=records, cursor=cursor, next_page=next_after)


def _deal_companies(client: Client, rows: list[Any]) -> dict[str, str]:
    """Each deal's company: the primary one, else the first (search has no associations)."""
    if not rows:
        return {}
    batch = client.crm.associations.v4.batch_api
    answer = _call(
        lambda: batch.get_page(
            from_object_type="deals",
            to_object_type="companies",
            batch_input_public_fetch_associations_batch_request={
                "inputs": [{"id": str(r.id)} for r in rows]
            },
            _request_timeout=settings.CRM_TIMEOUT_SECONDS,
        )
    )
    found: dict[str, str] = {}
    for result in answer.results or []:
        targets = list(result.to or [])
        primary = [
            t
            for t in targets
            if any(a.type_id == PRIMARY_DEAL_TO_COMPANY for a in t.association_types or [])
        ]
        chosen = (primary or targets)[:1]
        if chosen:
            found[str(result._from.id)] = str(chosen[0].to_object_id)
    return found
