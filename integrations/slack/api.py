"""Slack's Web API through slack_sdk's ``WebClient``, and what its errors mean for Vouch.

- ``RetryLater``: Slack asked us to slow down (HTTP 429, ``Retry-After`` seconds) or had
  a server error (5xx) or could not be reached: the task tries again later.
- ``TokenRefused``: the token no longer works (``invalid_auth``, ``token_revoked``,
  ``account_inactive``...): the installation is marked broken and shown in the console.
- any other ``SlackApiError`` (``channel_not_found``, ``not_in_channel``...) is a problem
  with that one message, recorded on the installation.
"""

from __future__ import annotations

import urllib.error

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

TIMEOUT_SECONDS = 10
# A slash command must be answered within 3 s: its calls get less time each.
INTERACTIVE_TIMEOUT_SECONDS = 2
# The errors that mean the bot token is dead (Slack's docs, "Errors" of every method).
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "team_disabled",
        "app_uninstalled",
    }
)
# The first wait after a 5xx or no answer (then doubled per retry, at most 10 minutes),
# and the wait after a 429 that came without a usable Retry-After.
DEFAULT_RETRY_SECONDS = 30


class RetryLater(Exception):
    """``seconds``: Slack's own Retry-After (a 429), or None: back off."""

    def __init__(self, message: str, *, seconds: int | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds


class TokenRefused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def client(token: str | None = None, *, timeout: int = TIMEOUT_SECONDS) -> WebClient:
    return WebClient(token=token, base_url=settings.SLACK_API_URL, timeout=timeout)


def error_code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def classify(error: Exception) -> Exception:
    """The exception a caller should act on for ``error`` raised by a Web API call."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = error_code(error)
        if status == 429:
            headers = {str(k).lower(): v for k, v in (error.response.headers or {}).items()}
            raw = headers.get("retry-after")
            if isinstance(raw, list):  # some transports keep every value of a header
                raw = raw[0] if raw else None
            try:
                seconds = max(1, int(str(raw)))
            except (TypeError, ValueError):
                seconds = DEFAULT_RETRY_SECONDS
            return RetryLater(f"Slack rate limit (retry after {seconds} s)", seconds=seconds)
        if status >= 500:
            return RetryLater(f"Slack answered HTTP {status}")
        if code in TOKEN_ERRORS:
            return TokenRefused(code)
        return error
    if isinstance(error, (urllib.error.URLError, OSError)):
        return RetryLater(f"Slack not reached: {error}")
    return error
