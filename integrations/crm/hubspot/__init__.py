"""HubSpot as a CRM provider (integrations.crm.base.Provider), on hubspot-api-client.

HubSpot speaks OAuth 2.0 with short-lived access tokens (``expires_in``, 30 minutes) and
long-lived refresh tokens; the connected portal (hub) id comes from the token's metadata.

This module holds the provider (``HubSpot`` and its instance ``provider``) and the OAuth
exchange; each of its other methods opens an SDK client on the connection's access token
and hands it to a submodule:

- ``api``: the SDK client, and HubSpot's errors as the interface's exceptions;
- ``reading``: incremental pages through the CRM search API, owners, deals' companies;
- ``records``: the properties read, cursors and page tokens, rows as normalized records;
- ``writes``: the referral's contact and deal, advocacy and influence written one record
  or a batch at a time, and the custom properties those writes need.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import urllib3
from django.conf import settings
from hubspot.oauth.exceptions import ApiException as OAuthApiException

from integrations.crm.base import (
    Advocacy,
    AuthRevoked,
    CrmProblem,
    Influence,
    Page,
    Pushed,
    ReferralOut,
    RetryLater,
    Tokens,
)
from integrations.crm.hubspot import reading, writes
from integrations.crm.hubspot.api import _body, _call, _client, _problem
from integrations.crm.hubspot.records import bare_domain
from integrations.crm.hubspot.writes import BATCH_SIZE

__all__ = ["HubSpot", "bare_domain", "clock", "get_provider", "provider"]

AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
SCOPES = (
    "oauth",
    "crm.objects.owners.read",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
)


def clock() -> datetime:
    """Now, as a function the tests can replace."""
    return datetime.now(UTC)


class HubSpot:
    name = "hubspot"
    label = "HubSpot"
    batch_size = BATCH_SIZE

    def __init__(self) -> None:
        self.stage_map: dict[str, str] = {
            "appointmentscheduled": "submitted",
            "qualifiedtobuy": "qualified",
            "presentationscheduled": "opportunity",
            "decisionmakerboughtin": "opportunity",
            "contractsent": "opportunity",
        }

    # --- OAuth ----------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "client_id": settings.HUBSPOT_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        answer = self._token(grant_type="authorization_code", code=code, redirect_uri=redirect_uri)
        info = _call(
            lambda: _client(answer.access_token).oauth.access_tokens_api.get(answer.access_token)
        )
        return _tokens(answer, account_id=str(info.hub_id), account_name=info.hub_domain or "")

    def refresh(self, tokens: Tokens) -> Tokens:
        answer = self._token(grant_type="refresh_token", refresh_token=tokens.refresh_token)
        return _tokens(answer, account_id=tokens.account_id, account_name=tokens.account_name)

    def _token(self, **grant: str) -> Any:
        try:
            return _client("").oauth.tokens_api.create(
                client_id=settings.HUBSPOT_CLIENT_ID,
                client_secret=settings.HUBSPOT_CLIENT_SECRET,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
                **grant,
            )
        except OAuthApiException as exc:
            body = _body(exc)
            # HubSpot keeps its own `status` beside RFC 6749's `error` (its OAuth docs).
            if exc.status == 400 and (
                body.get("status") == "BAD_REFRESH_TOKEN" or body.get("error") == "invalid_grant"
            ):
                raise AuthRevoked(str(body.get("message") or "refresh token refused")) from exc
            raise _problem(exc) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise RetryLater(f"HubSpot did not answer: {exc}") from exc

    # --- Reading --------------------------------------------------------------------

    def fetch(self, tokens: Tokens, object_name: str, *, cursor: str, page: str | None) -> Page:
        client = _client(tokens.access_token)
        return reading.fetch(client, object_name, cursor=cursor, page=page)

    # --- Writing --------------------------------------------------------------------

    def referral_push(self, tokens: Tokens, referral: ReferralOut) -> Pushed:
        return writes.referral_push(_client(tokens.access_token), referral)

    def company_write(self, tokens: Tokens, external_id: str, advocacy: Advocacy) -> None:
        writes.company_write(_client(tokens.access_token), external_id, advocacy)

    def deal_write(self, tokens: Tokens, external_id: str, influence: Influence) -> None:
        writes.deal_write(_client(tokens.access_token), external_id, influence)

    def companies_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Advocacy]]
    ) -> dict[str, CrmProblem | None]:
        return writes.companies_write(_client(tokens.access_token), items)

    def deals_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Influence]]
    ) -> dict[str, CrmProblem | None]:
        return writes.deals_write(_client(tokens.access_token), items)


def _tokens(answer: Any, *, account_id: str, account_name: str) -> Tokens:
    return Tokens(
        access_token=answer.access_token,
        refresh_token=answer.refresh_token or "",
        expires_at=clock() + timedelta(seconds=int(answer.expires_in)),
        account_id=account_id,
        account_name=account_name,
    )


provider = HubSpot()


def get_provider() -> HubSpot:
    return provider
