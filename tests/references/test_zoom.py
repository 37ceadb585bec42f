"""The Zoom client for reference calls, against recorded exchanges of Zoom's API
(tests/references/recordings/zoom/README.md says where each one comes from)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from django.core.cache import cache

from references import zoom
from references.zoom import ZoomError, ZoomMeeting
from tests.settings_process import settings_process

RECORDINGS = Path(__file__).parent / "recordings" / "zoom"
TOKEN_URL = "https://zoom.us/oauth/token"
HOST = "calls@vouch.example"
CREATE_URL = "https://api.zoom.us/v2/users/calls%40vouch.example/meetings"
MEETING_URL = "https://api.zoom.us/v2/meetings/91538056781"
PARIS = ZoneInfo("Europe/Paris")


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def replay(
    api: responses.RequestsMock, method: str, url: str, name: str, **body_changes: Any
) -> None:
    """Answer ``method url`` with the recorded response ``name``."""
    answer = recorded(name)["response"]
    body = answer["body"]
    if body_changes:
        body = body | body_changes
    api.add(
        method,
        url,
        status=answer["status"],
        headers={k: v for k, v in answer["headers"].items() if k.lower() != "content-type"},
        body=json.dumps(body) if body is not None else "",
        content_type="application/json;charset=UTF-8" if body is not None else None,
    )


def token_answer(api: responses.RequestsMock, token: str | None = None) -> None:
    replay(api, "POST", TOKEN_URL, "token", **({"access_token": token} if token else {}))


@pytest.fixture
def configured(settings) -> None:
    settings.ZOOM_ACCOUNT_ID = "q6gBJVO5TzexKYTb_I2rpg"
    settings.ZOOM_CLIENT_ID = "vouch-client-id"
    settings.ZOOM_CLIENT_SECRET = "vouch-client-secret"
    settings.ZOOM_HOST_USER = HOST


@pytest.fixture
def api(configured: None) -> Iterator[responses.RequestsMock]:
    # Every registered answer must be asked for, and nothing else goes out.
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def calls_to(api: responses.RequestsMock, url: str) -> list[Any]:
    return [call for call in api.calls if call.request.url == url]


def at(moment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zoom, "_now", lambda: datetime.fromisoformat(moment))


DOCS_TOKEN = recorded("token")["response"]["body"]["access_token"]


# --- Creating, moving, cancelling ------------------------------------------------------


def test_a_meeting_is_created_for_the_host_and_its_link_returned(api) -> None:
    token_answer(api)
    replay(api, "POST", CREATE_URL, "meeting_create_201")

    meeting = zoom.meeting_create(
        topic="Reference call: Acme and Northwind",
        start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
        duration_minutes=30,
        timezone="Europe/Paris",
    )

    assert meeting == ZoomMeeting(
        id="91538056781", join_url="https://company.zoom.us/j/91538056781"
    )
    (token_call,) = calls_to(api, TOKEN_URL)
    assert parse_qs(token_call.request.body) == {
        "grant_type": ["account_credentials"],
        "account_id": ["q6gBJVO5TzexKYTb_I2rpg"],
    }
    basic = base64.b64encode(b"vouch-client-id:vouch-client-secret").decode()
    assert token_call.request.headers["Authorization"] == f"Basic {basic}"
    (create_call,) = calls_to(api, CREATE_URL)
    assert create_call.request.headers["Authorization"] == f"Bearer {DOCS_TOKEN}"
    sent = json.loads(create_call.request.body)
    assert sent["topic"] == "Reference call: Acme and Northwind"
    assert sent["type"] == 2
    assert sent["duration"] == 30
    # The host does not attend: the two guests can start the call and are not held in a
    # waiting room no one watches.
    assert sent["settings"] == {"join_before_host": True, "jbh_time": 0, "waiting_room": False}


def test_the_start_is_sent_as_local_time_in_the_calls_timezone(api) -> None:
    """Zoom reads yyyy-MM-ddTHH:mm:ss in the named ``timezone`` (a trailing Z would be
    GMT, shown in the host's timezone): 15:00 UTC on 10 December is 16:00 in Paris."""
    token_answer(api)
    replay(api, "POST", CREATE_URL, "meeting_create_201")

    zoom.meeting_create(
        topic="Call",
        start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
        duration_minutes=30,
        timezone="Europe/Paris",
    )

    sent = json.loads(calls_to(api, CREATE_URL)[0].request.body)
    assert sent["start_time"] == "2026-12-10T16:00:00"
    assert sent["timezone"] == "Europe/Paris"


def test_summer_time_is_the_zones_own(api) -> None:
    token_answer(api)
    replay(api, "PATCH", MEETING_URL, "meeting_update_204")

    zoom.meeting_update(
        meeting_id="91538056781",
        start=datetime(2026, 7, 1, 17, 30, tzinfo=PARIS),  # 15:30 UTC
        duration_minutes=45,
        timezone="America/New_York",
    )

    (call,) = calls_to(api, MEETING_URL)
    assert call.request.method == "PATCH"
    assert json.loads(call.request.body) == {
        "start_time": "2026-07-01T11:30:00",  # EDT, UTC-4
        "timezone": "America/New_York",
        "duration": 45,
    }


def test_a_meeting_is_deleted(api) -> None:
    token_answer(api)
    replay(api, "DELETE", MEETING_URL, "meeting_delete_204")

    assert zoom.meeting_delete(meeting_id="91538056781") is None
    assert calls_to(api, MEETING_URL)[0].request.method == "DELETE"


def test_deleting_a_meeting_already_gone_is_success(api) -> None:
    token_answer(api)
    replay(api, "DELETE", MEETING_URL, "meeting_delete_404_3001")

    assert zoom.meeting_delete(meeting_id="91538056781") is None


def test_moving_a_meeting_already_gone_says_so_with_its_code(api) -> None:
    token_answer(api)
    replay(api, "PATCH", MEETING_URL, "meeting_delete_404_3001")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_update(
            meeting_id="91538056781",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert caught.value.code == zoom.CODE_MEETING_NOT_FOUND
    assert not caught.value.retryable
    assert "Meeting does not exist" in str(caught.value)


# --- The access token ------------------------------------------------------------------


def test_the_token_is_fetched_once_and_reused_by_the_next_calls(api) -> None:
    token_answer(api)
    replay(api, "POST", CREATE_URL, "meeting_create_201")
    replay(api, "DELETE", MEETING_URL, "meeting_delete_204")

    meeting = zoom.meeting_create(
        topic="Call",
        start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
        duration_minutes=30,
        timezone="UTC",
    )
    zoom.meeting_delete(meeting_id=meeting.id)

    assert len(calls_to(api, TOKEN_URL)) == 1
    assert calls_to(api, MEETING_URL)[0].request.headers["Authorization"] == f"Bearer {DOCS_TOKEN}"


def test_the_token_is_kept_for_its_lifetime_less_the_margin(api, monkeypatch) -> None:
    kept: dict[str, Any] = {}

    class SpyCache:
        def __getattr__(self, name: str) -> Any:
            return getattr(cache, name)

        def set(self, key: str, value: Any, timeout: Any = None) -> None:
            kept[key] = timeout
            cache.set(key, value, timeout)

    monkeypatch.setattr(zoom, "cache", SpyCache())
    token_answer(api)
    replay(api, "DELETE", MEETING_URL, "meeting_delete_204")

    zoom.meeting_delete(meeting_id="91538056781")

    assert kept == {zoom._token_key(): 3600 - zoom.TOKEN_MARGIN}
    assert cache.get(zoom._token_key()) == DOCS_TOKEN


def test_a_token_zoom_no_longer_takes_is_replaced_once_and_the_call_repeated(api) -> None:
    cache.set(zoom._token_key(), "expired-token", 3000)
    replay(api, "DELETE", MEETING_URL, "invalid_token_401")
    token_answer(api, token="fresh-token")
    replay(api, "DELETE", MEETING_URL, "meeting_delete_204")

    zoom.meeting_delete(meeting_id="91538056781")

    first, second = calls_to(api, MEETING_URL)
    assert first.request.headers["Authorization"] == "Bearer expired-token"
    assert second.request.headers["Authorization"] == "Bearer fresh-token"
    assert len(calls_to(api, TOKEN_URL)) == 1
    assert cache.get(zoom._token_key()) == "fresh-token"


def test_a_second_refusal_stops_with_what_to_check(api) -> None:
    replay(api, "POST", TOKEN_URL, "token")
    replay(api, "DELETE", MEETING_URL, "invalid_token_401")
    token_answer(api, token="fresh-token")
    replay(api, "DELETE", MEETING_URL, "invalid_token_401")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_delete(meeting_id="91538056781")

    assert caught.value.status == 401
    assert caught.value.code == 124
    assert not caught.value.retryable
    assert "Invalid access token." in str(caught.value)
    assert "activated" in str(caught.value)
    assert len(calls_to(api, TOKEN_URL)) == 2


def test_credentials_zoom_refuses_say_which_settings_to_check(api) -> None:
    replay(api, "POST", TOKEN_URL, "token_400_invalid_client")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_delete(meeting_id="91538056781")

    assert "Invalid client_id or client_secret" in str(caught.value)
    assert "ZOOM_CLIENT_SECRET" in str(caught.value)
    assert not caught.value.retryable
    assert cache.get(zoom._token_key()) is None


# --- Retryable failures ----------------------------------------------------------------


def test_a_rate_limit_with_retry_after_is_retried_when_zoom_says(api, monkeypatch) -> None:
    at("2020-05-30T23:58:00+00:00", monkeypatch)
    token_answer(api)
    replay(api, "POST", CREATE_URL, "rate_limit_429_daily")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_create(
            topic="Call",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert caught.value.status == 429
    assert caught.value.retryable
    assert caught.value.retry_after == 120
    assert "try again in 2 minutes" in str(caught.value)


def test_a_daily_limit_without_retry_after_waits_for_midnight_utc(api, monkeypatch) -> None:
    at("2026-12-03T21:30:00+00:00", monkeypatch)
    token_answer(api)
    replay(api, "PATCH", MEETING_URL, "rate_limit_429_user_daily_no_retry_after")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_update(
            meeting_id="91538056781",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert caught.value.retry_after == 2 * 3600 + 30 * 60
    assert "exceeded the daily rate limit" in str(caught.value)


def test_a_per_second_limit_is_retried_within_seconds(api) -> None:
    token_answer(api)
    replay(api, "POST", CREATE_URL, "rate_limit_429_per_second")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_create(
            topic="Call",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert caught.value.retry_after == zoom.RETRY_AFTER_RATE


def test_zooms_server_errors_are_retryable(api) -> None:
    token_answer(api)
    replay(api, "POST", CREATE_URL, "server_error_503")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_create(
            topic="Call",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert caught.value.status == 503
    assert caught.value.retry_after == zoom.RETRY_AFTER_SERVER
    assert "Zoom is having trouble" in str(caught.value)


def test_no_answer_is_retryable_and_every_request_has_a_timeout(api, monkeypatch) -> None:
    timeouts: list[Any] = []
    real_request = requests.Session.request

    def spy(self, method, url, **kwargs):
        timeouts.append(kwargs.get("timeout"))
        return real_request(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    token_answer(api)
    api.add("DELETE", MEETING_URL, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_delete(meeting_id="91538056781")

    assert caught.value.retryable
    assert timeouts == [zoom.TIMEOUT, zoom.TIMEOUT]


# --- Refusals --------------------------------------------------------------------------


def test_other_refusals_carry_zooms_message_and_are_not_retried(api) -> None:
    token_answer(api)
    replay(api, "PATCH", MEETING_URL, "validation_400_300")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_update(
            meeting_id="91538056781",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert str(caught.value) == "Zoom refused the request: Validation Failed."
    assert caught.value.code == 300
    assert not caught.value.retryable


def test_an_unknown_host_user_points_at_the_setting(api) -> None:
    token_answer(api)
    replay(api, "POST", CREATE_URL, "user_404_1001")

    with pytest.raises(ZoomError) as caught:
        zoom.meeting_create(
            topic="Call",
            start=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            duration_minutes=30,
            timezone="UTC",
        )

    assert "User does not exist" in str(caught.value)
    assert "ZOOM_HOST_USER" in str(caught.value)


def test_deleting_under_an_unknown_host_is_not_taken_for_a_meeting_gone(api) -> None:
    token_answer(api)
    replay(api, "DELETE", MEETING_URL, "user_404_1001")

    with pytest.raises(ZoomError):
        zoom.meeting_delete(meeting_id="91538056781")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"start": datetime(2026, 12, 10, 15, 0)}, "aware"),  # naive: the point
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"duration_minutes": 0}, "duration"),
    ],
)
def test_a_call_zoom_cannot_place_is_refused_before_asking(api, change, problem) -> None:
    arguments = {
        "topic": "Call",
        "start": datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
        "duration_minutes": 30,
        "timezone": "UTC",
    } | change

    with pytest.raises(ValueError, match=problem):
        zoom.meeting_create(**arguments)
    assert len(api.calls) == 0


# --- Configuration ---------------------------------------------------------------------


def test_without_the_settings_zoom_is_off_and_nothing_is_sent(settings) -> None:
    settings.ZOOM_ACCOUNT_ID = settings.ZOOM_CLIENT_ID = ""
    settings.ZOOM_CLIENT_SECRET = settings.ZOOM_HOST_USER = ""

    assert not zoom.zoom_configured()
    with responses.RequestsMock() as api, pytest.raises(ZoomError, match="not configured"):
        zoom.meeting_delete(meeting_id="91538056781")
    assert len(api.calls) == 0


def test_with_the_four_settings_zoom_is_on(configured) -> None:
    assert zoom.zoom_configured()


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "SITE_URL": "https://vouch.example.com"}
LOAD = "from django.conf import settings; print(settings.ZOOM_HOST_USER)"
ALL = {
    "ZOOM_ACCOUNT_ID": "q6gBJVO5TzexKYTb_I2rpg",
    "ZOOM_CLIENT_ID": "cid",
    "ZOOM_CLIENT_SECRET": "secret",
    "ZOOM_HOST_USER": HOST,
}


def test_a_partial_zoom_configuration_stops_start_up_naming_what_is_missing() -> None:
    result = settings_process(
        LOAD, **PRODUCTION, ZOOM_ACCOUNT_ID="q6gBJVO5TzexKYTb_I2rpg", ZOOM_CLIENT_ID="cid"
    )

    assert result.returncode != 0
    assert (
        "ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID are set: set ZOOM_CLIENT_SECRET, ZOOM_HOST_USER too"
        in (result.stderr)
    )


def test_all_or_none_of_the_zoom_settings_start() -> None:
    full = settings_process(LOAD, **PRODUCTION, **ALL)
    assert full.returncode == 0, full.stderr
    assert full.stdout.strip() == HOST
    none = settings_process(LOAD, **PRODUCTION)
    assert none.returncode == 0, none.stderr
    assert none.stdout.strip() == ""
