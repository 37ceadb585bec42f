"""Slack test fixtures: the recorded exchanges (recordings/slack/README.md) replayed by a
loopback server that SLACK_API_URL points slack_sdk's WebClient at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.utils import timezone
from slack_sdk.signature import SignatureVerifier

from integrations.slack import commands
from integrations.slack.crypto import token_encrypt
from integrations.slack.models import SlackInstallation

RECORDINGS = Path(__file__).parent / "recordings" / "slack"
SLASH = json.loads((RECORDINGS / "slash_command.json").read_text())
# The documented request's signing secret, workspace and moment (Slack's docs).
SIGNING_SECRET = SLASH["signing_secret"]
TEAM_ID = "T1DC2JH3J"
NOW = int(SLASH["timestamp"])
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


@pytest.fixture
def slack_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    clock = FrozenClock(NOW)
    monkeypatch.setattr(commands, "clock", clock)
    return clock


@pytest.fixture
def slack_api(httpserver, settings):
    """The loopback Slack: tests register the recorded answers they expect."""
    settings.SLACK_CLIENT_ID = "2141029472.691202649728"
    settings.SLACK_CLIENT_SECRET = "client-secret-for-tests"
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_API_URL = httpserver.url_for("/api/")
    return httpserver


def answer(server, method: str, name: str, *, status: int = 200, headers=None, once=False):
    handler = server.expect_oneshot_request if once else server.expect_request
    handler(f"/api/{method}").respond_with_json(recording(name), status=status, headers=headers)


def calls(server, method: str) -> list[dict[str, Any]]:
    """The arguments of each call Vouch made to ``method`` (JSON body, form or query)."""
    found = []
    for request, _response in server.log:
        if request.path != f"/api/{method}":
            continue
        body = request.get_data(as_text=True)
        if body.startswith("{"):
            found.append(json.loads(body))
        else:
            found.append(dict(parse_qsl(body)) | dict(request.args))
    return found


@pytest.fixture
def installation(db) -> SlackInstallation:
    return SlackInstallation.objects.create(
        team_id=TEAM_ID,
        team_name="testteamnow",
        bot_token_encrypted=token_encrypt(BOT_TOKEN),
        channel_id="C1H9RESGL",
        channel_name="references",
        installed_at=timezone.now(),
    )


def sign(body: str, *, timestamp: int = NOW, secret: str = SIGNING_SECRET) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp), "HTTP_X_SLACK_SIGNATURE": signature}


def slash_body(text: str) -> str:
    """The documented request with another ``text`` (re-signed by the tests, as Slack
    signs every request it sends)."""
    fields = dict(parse_qsl(SLASH["body"], keep_blank_values=True))
    fields["text"] = text
    fields["command"] = "/vouch"
    return urlencode(fields)
