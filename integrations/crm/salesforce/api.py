"""Salesforce's HTTP session and client, and the translation of its errors into the CRM
interface's.

simple-salesforce is built on ``requests``: every call goes through a ``Session`` that
gives it ``settings.CRM_TIMEOUT_SECONDS`` and keeps the last answer (for Retry-After).
``translated`` turns simple-salesforce's exceptions (and requests' own) into the matching
exceptions of integrations.crm.base; ``saved`` does the same for one SaveResult of an
sObject Collections write.

Salesforce answers an exhausted daily API allowance with 403 ``REQUEST_LIMIT_EXCEEDED``,
not 429: both become ``RetryLater`` here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, cast

import requests
from django.conf import settings
from simple_salesforce import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from integrations.crm.base import (
    CrmError,
    CrmProblem,
    FieldMissing,
    RecordGone,
    RetryLater,
    TokenExpired,
    Tokens,
)

_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)'")
# A record's own refusals that mean it is no longer there (a 404 of the one-record PATCH,
# a SaveResult error of a collection).
_GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND"})


class Session(requests.Session):
    """simple-salesforce's calls take no timeout of their own: give each one ours, and
    keep the last answer, whose headers (Retry-After) its exceptions do not carry."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.last_response: requests.Response | None = None

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        self.last_response = None
        response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        return response


def session() -> Session:
    return Session(timeout=settings.CRM_TIMEOUT_SECONDS)


def client(tokens: Tokens) -> tuple[Salesforce, Session]:
    """A simple-salesforce client on the connection's access token, and its session."""
    http = session()
    sf = Salesforce(
        instance_url=tokens.instance_url,
        session_id=tokens.access_token,
        session=http,
        version=settings.SALESFORCE_API_VERSION,
        parse_float=Decimal,
    )
    return sf, http


def sobject(client: Salesforce, name: str) -> SFType:
    # Salesforce.__getattr__ also answers "bulk"/"bulk2", hence its wide return type.
    return cast(SFType, getattr(client, name))


def _errors(content: Any) -> list[dict[str, Any]]:
    """Salesforce's error body is a list of {"message", "errorCode"[, "fields"]}."""
    if isinstance(content, list):
        return [item for item in content if isinstance(item, dict)]
    if isinstance(content, dict):
        return [content]
    return []


def _codes(content: Any) -> set[str]:
    return {str(item.get("errorCode", "")) for item in _errors(content)}


def _message(content: Any) -> str:
    errors = _errors(content)
    if errors:
        return "; ".join(f"{e.get('errorCode', '')}: {e.get('message', '')}" for e in errors)
    return str(content)[:500]


def _retry_after(session: Session) -> int | None:
    response = session.last_response
    value = response.headers.get("Retry-After", "") if response is not None else ""
    return int(value) if value.strip().isdigit() else None


def _missing_columns(errors: list[dict[str, Any]], *, code_key: str) -> list[str]:
    """The columns an INVALID_FIELD error calls unknown ("No such column 'X' on sobject of
    type Y"). A REST error body names its code ``errorCode``, a SaveResult ``statusCode``."""
    return [
        match.group(1)
        for item in errors
        if item.get(code_key) == "INVALID_FIELD"
        for match in [_NO_SUCH_COLUMN.search(str(item.get("message", "")))]
        if match
    ]


def saved(external_id: str, result: Any) -> CrmProblem | None:
    """One SaveResult of a collection (``{"id", "success", "errors": [{"statusCode",
    "message", "fields"}]}``) as the item's problem, None when it was written."""
    if not isinstance(result, dict):
        return CrmError(f"Salesforce gave no result for {external_id}")
    if result.get("success"):
        return None
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    message = "; ".join(f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in errors)
    if {str(e.get("statusCode", "")) for e in errors} & _GONE_CODES:
        return RecordGone(external_id, message)
    missing = _missing_columns(errors, code_key="statusCode")
    if missing:
        return FieldMissing(missing, message)
    return CrmError(message or f"Salesforce did not write {external_id}")


@contextmanager
def translated(session: Session, record_id: str = "") -> Iterator[None]:
    """simple-salesforce's exceptions (and requests' own) as base.py's problems."""
    try:
        yield
    except SalesforceExpiredSession as error:
        raise TokenExpired(_message(error.content)) from error
    except SalesforceRefusedRequest as error:
        if "REQUEST_LIMIT_EXCEEDED" in _codes(error.content):
            raise RetryLater(_message(error.content), seconds=_retry_after(session)) from error
        raise CrmError(_message(error.content)) from error
    except SalesforceResourceNotFound as error:
        if record_id and _codes(error.content) & _GONE_CODES:
            raise RecordGone(record_id, _message(error.content)) from error
        raise CrmError(_message(error.content)) from error
    except SalesforceMalformedRequest as error:
        missing = _missing_columns(_errors(error.content), code_key="errorCode")
        if missing:
            raise FieldMissing(missing, _message(error.content)) from error
        raise CrmError(_message(error.content)) from error
    except SalesforceError as error:
        if error.status == 429:
            raise RetryLater(_message(error.content), seconds=_retry_after(session)) from error
        if error.status >= 500:
            raise RetryLater(f"Salesforce answered {error.status}") from error
        raise CrmError(_message(error.content)) from error
    except (requests.ConnectionError, requests.Timeout) as error:
        raise RetryLater(f"No answer from Salesforce: {error}") from error
