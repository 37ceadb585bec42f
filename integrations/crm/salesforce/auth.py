"""Connecting to Salesforce: the OAuth 2.0 web-server flow and the JWT bearer flow.

A manager consents through the web-server flow (``authorize_url``, then the code is
exchanged at the token endpoint); an integration user connects without anyone's consent
through the JWT bearer flow (``jwt_assertion``, signed with
``settings.SALESFORCE_JWT_PRIVATE_KEY_FILE``). Every grant is a POST of the token
endpoint (``token_grant``), and its answer becomes ``Tokens`` (``tokens``). Salesforce's
token answer has no ``expires_in``: a 401 ``INVALID_SESSION_ID`` is how the sync learns
to refresh.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings

from integrations.crm.base import AuthRevoked, CrmError, RetryLater, Tokens
from integrations.crm.salesforce import api

_TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret


def _token_url() -> str:
    return settings.SALESFORCE_LOGIN_URL.rstrip("/") + _TOKEN_PATH


def authorize_url(*, state: str, redirect_uri: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "redirect_uri": redirect_uri,
            # api: the REST API; refresh_token: stay connected without the manager.
            "scope": "api refresh_token",
            "state": state,
        }
    )
    return f"{settings.SALESFORCE_LOGIN_URL.rstrip('/')}/services/oauth2/authorize?{query}"


def token_grant(data: dict[str, str], *, refused: type[Exception]) -> dict[str, Any]:
    """POST the token endpoint; a refused grant raises ``refused`` with Salesforce's words."""
    try:
        response = api.session().post(_token_url(), data=data)
    except (requests.ConnectionError, requests.Timeout) as error:
        raise RetryLater(f"No answer from Salesforce: {error}") from error
    if response.status_code >= 500:
        raise RetryLater(f"Salesforce's token endpoint answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        description = body.get("error_description") or body.get("error") or response.text[:200]
        if body.get("error") == "invalid_grant":
            raise refused(description)
        raise CrmError(description)
    return dict(body)


def tokens(body: Mapping[str, Any], refresh_token: str = "") -> Tokens:
    # id is https://login.salesforce.com/id/<org id>/<user id>.
    identity = urlsplit(str(body.get("id", ""))).path.strip("/").split("/")
    return Tokens(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or refresh_token),
        instance_url=str(body["instance_url"]),
        expires_at=None,
        account_id=identity[1] if len(identity) >= 3 else "",
    )


def jwt_assertion() -> str:
    """The signed assertion of the JWT bearer flow, for the integration user."""
    if not (settings.SALESFORCE_JWT_USERNAME and settings.SALESFORCE_JWT_PRIVATE_KEY_FILE):
        raise AuthRevoked("Neither a refresh token nor the JWT bearer settings are set")
    key = Path(settings.SALESFORCE_JWT_PRIVATE_KEY_FILE).read_text()
    return jwt.encode(
        {
            "iss": settings.SALESFORCE_CLIENT_ID,
            "sub": settings.SALESFORCE_JWT_USERNAME,
            "aud": settings.SALESFORCE_LOGIN_URL.rstrip("/"),
            # Salesforce accepts an assertion for at most three minutes.
            "exp": int(time.time()) + 180,
        },
        key,
        algorithm="RS256",
    )
