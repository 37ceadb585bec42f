"""Zoom meetings for reference calls, through a Server-to-Server OAuth app.

Issue 18: a reference call carries a video link, entered by the advocate or created here
when ``ZOOM_ACCOUNT_ID``, ``ZOOM_CLIENT_ID``, ``ZOOM_CLIENT_SECRET`` and
``ZOOM_HOST_USER`` are set (docs/operations.md, "Zoom": the app, its scopes).

- Authentication is the ``account_credentials`` grant: no user consents, no refresh
  token; a token lives an hour. It is kept in Django's cache (Redis in production, so
  every web process and worker shares one) until ``TOKEN_MARGIN`` before it expires.
  A 401 (token revoked, app deactivated, or expired early) fetches a new token once and
  repeats the request once.
- The meeting is hosted by ``ZOOM_HOST_USER`` (an email or a Zoom user id):
  ``POST /users/me/meetings`` means the token's own user, which an account-level app
  does not have.
- Every failure is a ``ZoomError`` whose message can be shown to a manager or an
  advocate. ``retryable`` errors (429, 5xx, no answer) carry ``retry_after`` seconds for
  a Celery task's ``self.retry(countdown=...)``; the others will fail the same way again.
  ``ZoomError`` is not an ``OSError``, so ``core.tasks.RETRY``'s autoretry leaves the
  choice to the task::

      except ZoomError as error:
          if not error.retryable:
              ...  # record str(error) on the call; the advocate enters a link by hand
          raise self.retry(countdown=min(error.retry_after, 1800))  # capped: below

  ``retry_after`` can be hours (a daily limit resets at 00:00 UTC). A countdown longer
  than ``CELERY_VISIBILITY_TIMEOUT`` makes Redis hand the waiting task to a second
  worker (README, "Celery delivery guarantees"): cap it, or leave the call without a
  link and let a periodic sweep try again.
- Zoom's create endpoint has no idempotency key: a create that timed out may have made a
  meeting nobody holds the id of. It stays in the host's list; deleting it is harmless.

The recorded exchanges the tests replay are in tests/references/recordings/zoom/.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

OAUTH_URL = "https://zoom.us/oauth/token"
API_URL = "https://api.zoom.us/v2"
# (connect, read) seconds, on every request: a web request or a worker never waits on
# Zoom longer than this.
TIMEOUT = (5, 20)
# A cached token is dropped this long before Zoom's expiry, so a request never starts
# with a token that expires on the way.
TOKEN_MARGIN = 300
# Zoom's error codes (developers.zoom.us/docs/api/errors, the endpoints' 4xx lists).
CODE_INVALID_TOKEN = 124
CODE_MEETING_NOT_FOUND = 3001
CODE_USER_NOT_FOUND = 1001
TOPIC_MAX_LENGTH = 200  # Zoom's limit on a meeting's topic
# When Zoom says neither when nor how long: per-second limits pass within a second or
# two; a server error gets a minute.
RETRY_AFTER_RATE = 2
RETRY_AFTER_SERVER = 60


class ZoomError(Exception):
    """A Zoom call that did not do what was asked; ``str(error)`` is fit to show.

    ``status`` and ``code`` are Zoom's HTTP status and error code when it answered
    (``code == 3001``: the meeting does not exist). ``retry_after`` (seconds) is set when
    trying again later may succeed: rate limits, Zoom's server errors, no answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.retry_after is not None


@dataclass(frozen=True)
class ZoomMeeting:
    id: str
    join_url: str


def zoom_configured() -> bool:
    """True when the four settings are set (config/settings/ refuses a partial set)."""
    return all(
        getattr(settings, name, "")
        for name in ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_HOST_USER")
    )


def meeting_create(
    *, topic: str, start: datetime, duration_minutes: int, timezone: str
) -> ZoomMeeting:
    """A scheduled meeting hosted by ``ZOOM_HOST_USER``; its id and the link to join."""
    body = {
        "topic": topic.strip()[:TOPIC_MAX_LENGTH] or "Reference call",
        "type": 2,  # scheduled, at a fixed time
        **_schedule(start=start, duration_minutes=duration_minutes, timezone=timezone),
        # The host is a service user who does not attend: the advocate and the prospect
        # must be able to start the call without it, and no one is there to admit them
        # from a waiting room. (An account-level lock on these settings still wins.)
        "settings": {"join_before_host": True, "jbh_time": 0, "waiting_room": False},
    }
    host = quote(settings.ZOOM_HOST_USER, safe="")
    response = _request("POST", f"/users/{host}/meetings", json=body)
    data = _json(response)
    meeting_id, join_url = data.get("id"), data.get("join_url")
    if not meeting_id or not isinstance(join_url, str) or not join_url:
        raise ZoomError(
            "Zoom created the meeting but sent no link to join it; enter the link by hand.",
            status=response.status_code,
        )
    return ZoomMeeting(id=str(meeting_id), join_url=join_url)


def meeting_update(
    *, meeting_id: str, start: datetime, duration_minutes: int, timezone: str
) -> None:
    """Move a meeting; the link stays the same. A meeting deleted in Zoom meanwhile is a
    ``ZoomError`` with ``code == CODE_MEETING_NOT_FOUND`` (create a new one)."""
    body = _schedule(start=start, duration_minutes=duration_minutes, timezone=timezone)
    _request("PATCH", f"/meetings/{_meeting_path(meeting_id)}", json=body)


def meeting_delete(*, meeting_id: str) -> None:
    """Cancel a meeting; one already gone counts as deleted (a retry, or a host who
    deleted it in Zoom)."""
    try:
        _request("DELETE", f"/meetings/{_meeting_path(meeting_id)}")
    except ZoomError as error:
        if error.status == 404 and error.code == CODE_MEETING_NOT_FOUND:
            return
        raise


def _schedule(*, start: datetime, duration_minutes: int, timezone: str) -> dict[str, Any]:
    """Zoom's two time fields: ``start_time`` as local time without an offset, and the
    IANA ``timezone`` it is in. Zoom then shows the meeting, and its invitation, in the
    call's own timezone (a ``...Z`` time would be read as GMT and shown in the host's)."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    if duration_minutes < 1:
        raise ValueError("duration_minutes must be at least 1")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r}") from None
    local = start.astimezone(zone)
    return {
        "start_time": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "timezone": timezone,
        "duration": int(duration_minutes),
    }


def _meeting_path(meeting_id: str) -> str:
    meeting_id = str(meeting_id).strip()
    if not meeting_id.isdigit():
        raise ValueError(f"not a Zoom meeting id: {meeting_id!r}")
    return meeting_id


# --- HTTP ------------------------------------------------------------------------------


def _request(method: str, path: str, *, json: dict[str, Any] | None = None) -> requests.Response:
    """One API call with the cached token; on a 401, one more with a new token."""
    if not zoom_configured():
        raise ZoomError("Zoom is not configured: enter the video link by hand.")
    token = _token()
    response = _send(method, path, token=token, json=json)
    if response.status_code == 401:
        # Expired or revoked before our cached expiry: forget it, ask for a new one once.
        cache.delete(_token_key())
        response = _send(method, path, token=_token(), json=json)
        if response.status_code == 401:
            code, message = _zoom_error(response)
            raise ZoomError(
                f"Zoom refused Vouch's access ({message}): check that the Zoom app is "
                "activated and has the meeting scopes (docs/operations.md).",
                status=401,
                code=code,
            )
    if response.status_code < 300:
        return response
    raise _error_for(response)


def _send(method: str, path: str, *, token: str, json: dict[str, Any] | None) -> requests.Response:
    try:
        return requests.request(
            method,
            API_URL + path,
            json=json,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning("Zoom %s %s: no answer (%s)", method, path, type(exc).__name__)
        raise ZoomError(
            "Zoom did not answer; Vouch will try again shortly.",
            retry_after=RETRY_AFTER_SERVER,
        ) from exc


def _error_for(response: requests.Response) -> ZoomError:
    code, message = _zoom_error(response)
    status = response.status_code
    logger.warning("Zoom answered %s (code %s): %s", status, code, message)
    if status == 429:
        wait = _retry_after(response, message)
        return ZoomError(
            f"Zoom's rate limit is reached ({message}); Vouch will try again in {_duration(wait)}.",
            status=status,
            code=code,
            retry_after=wait,
        )
    if status >= 500:
        return ZoomError(
            "Zoom is having trouble right now; Vouch will try again shortly.",
            status=status,
            code=code,
            retry_after=_retry_after_seconds(response) or RETRY_AFTER_SERVER,
        )
    if code == CODE_USER_NOT_FOUND:
        message += " (check ZOOM_HOST_USER)"
    return ZoomError(f"Zoom refused the request: {message}", status=status, code=code)


def _zoom_error(response: requests.Response) -> tuple[int | None, str]:
    """Zoom's ``{"code": ..., "message": ...}`` (the OAuth endpoint says ``reason``)."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = data.get("code")
    message = data.get("message") or data.get("reason") or data.get("error") or ""
    if not message:
        message = f"HTTP {response.status_code} {response.reason or ''}".strip()
    return (code if isinstance(code, int) else None), str(message)


def _retry_after(response: requests.Response, message: str) -> int:
    """Seconds until Zoom takes requests again. Zoom documents ``Retry-After`` as the
    time the limit resets (``2020-05-31T00:00:00Z``); HTTP also allows a date or a
    number of seconds. Without it, a daily limit resets at 00:00 UTC and a per-second
    one within a second or two."""
    seconds = _retry_after_seconds(response)
    if seconds is not None:
        return seconds
    limit_type = response.headers.get("X-RateLimit-Type", "")
    if "daily" in limit_type.lower() or "daily" in message.lower():
        now = _now()
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        return max(1, math.ceil((midnight - now).total_seconds()))
    return RETRY_AFTER_RATE


def _retry_after_seconds(response: requests.Response) -> int | None:
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return max(1, int(raw))
    when: datetime | None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(1, math.ceil((when - _now()).total_seconds()))


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ZoomError("Zoom sent an answer Vouch cannot read.", status=response.status_code)
    return data


def _now() -> datetime:
    return datetime.now(UTC)


# --- The access token ------------------------------------------------------------------


def _token_key() -> str:
    # Per account and app: new credentials never reuse the old app's token.
    ident = f"{settings.ZOOM_ACCOUNT_ID}:{settings.ZOOM_CLIENT_ID}".encode()
    return f"references:zoom:token:{hashlib.sha256(ident).hexdigest()[:16]}"


def _token() -> str:
    token = cache.get(_token_key())
    if isinstance(token, str) and token:
        return token
    return _token_fetch()


def _token_fetch() -> str:
    """The account_credentials grant (developers.zoom.us/docs/internal-apps/s2s-oauth)."""
    try:
        response = requests.post(
            OAUTH_URL,
            data={"grant_type": "account_credentials", "account_id": settings.ZOOM_ACCOUNT_ID},
            auth=(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning("Zoom token: no answer (%s)", type(exc).__name__)
        raise ZoomError(
            "Zoom did not answer; Vouch will try again shortly.",
            retry_after=RETRY_AFTER_SERVER,
        ) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise _error_for(response)
    if response.status_code >= 300:
        code, message = _zoom_error(response)
        logger.warning("Zoom token refused: %s %s", response.status_code, message)
        raise ZoomError(
            f"Zoom refused Vouch's credentials ({message}): check ZOOM_ACCOUNT_ID, "
            "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (docs/operations.md).",
            status=response.status_code,
            code=code,
        )
    data = _json(response)
    token, expires_in = data.get("access_token"), data.get("expires_in")
    if not isinstance(token, str) or not token:
        raise ZoomError("Zoom sent no access token.", status=response.status_code)
    lifetime = expires_in if isinstance(expires_in, int) else 3600
    if lifetime > TOKEN_MARGIN:
        cache.set(_token_key(), token, timeout=lifetime - TOKEN_MARGIN)
    return token
