"""HubSpot's SDK client and the translation of its errors into the CRM interface's.

The SDK sends HTTP with urllib3, built on ``settings.HUBSPOT_API_URL`` (the SDK
configuration's ``host``), which is how the tests point it at a loopback server. Every
call goes through ``_call``: an SDK ``ApiException`` becomes the matching exception of
integrations.crm.base (``_problem``), and no answer at all becomes ``RetryLater``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from django.conf import settings
from hubspot import Client
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.deals.exceptions import ApiException as DealsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
from hubspot.oauth.exceptions import ApiException as OAuthApiException

from integrations.crm.base import (
    CrmError,
    FieldMissing,
    RecordGone,
    RetryLater,
    TokenExpired,
)

_API_ERRORS = (
    CompaniesApiException,
    ContactsApiException,
    DealsApiException,
    OwnersApiException,
    AssociationsApiException,
    OAuthApiException,
)

T = TypeVar("T")


def _client(access_token: str) -> Client:
    # No urllib3 retries: a dead HubSpot fails the call at once and the sync's task retries
    # with backoff (RetryLater) instead of this worker waiting.
    return Client.create(
        access_token=access_token or None,
        host=settings.HUBSPOT_API_URL.rstrip("/"),
        retry=urllib3.Retry(total=0, redirect=0, raise_on_status=False),
    )


def _call(do: Callable[[], T], *, record_id: str = "") -> T:
    try:
        return do()
    except _API_ERRORS as exc:
        raise _problem(exc, record_id=record_id) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise RetryLater(f"HubSpot did not answer: {exc}") from exc


def _problem(exc: Any, *, record_id: str = "") -> Exception:
    """HubSpot's answer as the interface's exception (integrations.crm.base)."""
    status = int(exc.status or 0)
    body = _body(exc)
    message = str(body.get("message") or exc.reason or status)
    if status == 401:
        return TokenExpired(message)
    if status == 429:
        return RetryLater(message, seconds=_retry_after(exc.headers))
    if status >= 500 or status == 0:
        return RetryLater(message)
    if status == 404 and record_id:
        return RecordGone(record_id, message)
    if status == 400:
        fields = _missing_properties(message)
        if fields:
            return FieldMissing(fields, message)
    return CrmError(message)


def _body(exc: Any) -> dict[str, Any]:
    raw = exc.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {"message": raw}
    return parsed if isinstance(parsed, dict) else {}


def _retry_after(headers: Any) -> int | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(0, int(float(value)))
            except ValueError:
                return None
    return None


def _missing_properties(message: str) -> tuple[str, ...]:
    """Names HubSpot refused as unknown, from 'Property values were not valid: [...]'."""
    start = message.find("[")
    try:
        problems = json.loads(message[start:]) if start >= 0 else []
    except ValueError:
        problems = []
    names = [
        str(p.get("name"))
        for p in problems
        if isinstance(p, dict) and p.get("error") == "PROPERTY_DOESNT_EXIST"
    ]
    return tuple(dict.fromkeys(names))
