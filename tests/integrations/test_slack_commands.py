"""The /vouch slash command: Slack's signature decides, then the rep's role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.slack.models import SlackInstallation
from references.models import ReferenceRequest
from tests import factories
from tests.integrations.conftest import NOW, SLASH, answer, calls, sign, slash_body

URL = "/slack/commands/"
FORM = "application/x-www-form-urlencoded"
SLACK_EMAIL = "spengler@ghostbusters.example.com"  # the user in the users.info recording


@pytest.fixture
def slack_rep(db):
    return factories.RepFactory(email=SLACK_EMAIL, first_name="Egon")


def post(client, body: str, **headers: str):
    return client.post(URL, data=body, content_type=FORM, **headers)


def test_the_url_is_named() -> None:
    assert reverse("integrations:slack_commands") == URL


def test_slacks_documented_request_is_verified_and_answered(
    client, slack_api, slack_clock, installation
) -> None:
    # Slack's own example, signed by Slack's docs: the empty text gets the help.
    response = post(
        client,
        SLASH["body"],
        HTTP_X_SLACK_REQUEST_TIMESTAMP=SLASH["timestamp"],
        HTTP_X_SLACK_SIGNATURE=SLASH["signature"],
    )
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "/vouch reference" in response.json()["text"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="unsigned"),
        pytest.param(
            {
                "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(NOW),
                "HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64,
            },
            id="bad signature",
        ),
        pytest.param(sign(slash_body("reference"), secret="another-secret"), id="other secret"),
        pytest.param(sign(slash_body("help")), id="signed for another body"),
    ],
)
def test_a_bad_signature_is_refused_and_changes_nothing(
    client, slack_api, slack_clock, installation, slack_rep, headers
) -> None:
    response = post(client, slash_body("reference"), **headers)
    assert response.status_code == 401
    assert not slack_api.log  # Slack was not even asked who it is
    assert not ReferenceRequest.objects.exists()


def test_a_replayed_request_older_than_five_minutes_is_refused(
    client, slack_api, slack_clock, installation
) -> None:
    body = slash_body("help")
    headers = sign(body)
    slack_clock.at = NOW + 5 * 60 + 1
    assert post(client, body, **headers).status_code == 401


def test_reference_opens_the_modal_for_a_rep(
    client, slack_api, slack_clock, installation, slack_rep
) -> None:
    answer(slack_api, "users.info", "users.lookupByEmail")
    answer(slack_api, "views.open", "views.open")
    body = slash_body("reference")
    response = post(client, body, **sign(body))
    assert response.status_code == 200
    assert response.content == b""  # the modal is the answer
    (opened,) = calls(slack_api, "views.open")
    assert opened["trigger_id"] == "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    view = opened["view"]
    assert view["callback_id"] == "vouch_reference_request"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert blocks["prospect_email"]["element"]["type"] == "email_text_input"
    assert blocks["needed_by"]["element"]["type"] == "datepicker"
    assert blocks["notes"]["optional"] is True
    assert blocks["prospect_name"]["optional"] is False
    # The mapped user is the Slack user of the request.
    assert calls(slack_api, "users.info")[0]["user"] == "U2CERLKJA"


@pytest.mark.parametrize("who", ["advocate", "stranger", "inactive rep"])
def test_someone_not_a_rep_or_manager_is_refused(
    client, slack_api, slack_clock, installation, who
) -> None:
    if who == "advocate":
        factories.AdvocateFactory(user__email=SLACK_EMAIL)
    elif who == "inactive rep":
        factories.RepFactory(email=SLACK_EMAIL, is_active=False)
    answer(slack_api, "users.info", "users.lookupByEmail")
    body = slash_body("reference")
    response = post(client, body, **sign(body))
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "Only Vouch's sales reps and community managers" in response.json()["text"]
    assert not calls(slack_api, "views.open")


def test_a_manager_may_ask_too(client, slack_api, slack_clock, installation) -> None:
    factories.ManagerFactory(email=SLACK_EMAIL)
    answer(slack_api, "users.info", "users.lookupByEmail")
    answer(slack_api, "views.open", "views.open")
    body = slash_body("reference")
    assert post(client, body, **sign(body)).content == b""
    assert len(calls(slack_api, "views.open")) == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [("help", "*Vouch in Slack*"), ("", "*Vouch in Slack*"), ("dance now", "I don't know “dance”")],
)
def test_help_and_unknown_subcommands(
    client, slack_api, slack_clock, installation, text, says
) -> None:
    body = slash_body(text)
    response = post(client, body, **sign(body))
    assert says in response.json()["text"]
    assert "/vouch reference" in response.json()["text"]
    assert not slack_api.log


def test_a_workspace_vouch_is_not_installed_in_is_told_so(
    client, slack_api, slack_clock, slack_rep
) -> None:
    body = slash_body("reference")
    response = post(client, body, **sign(body))
    assert "not connected to this workspace" in response.json()["text"]


def test_a_revoked_token_marks_the_installation_broken(
    client, slack_api, slack_clock, installation, slack_rep
) -> None:
    answer(slack_api, "users.info", "invalid_auth")
    body = slash_body("reference")
    response = post(client, body, **sign(body))
    assert "not connected to this workspace" in response.json()["text"]
    installation.refresh_from_db()
    assert installation.status == SlackInstallation.Status.BROKEN
    assert installation.broken_reason == "invalid_auth"


def test_without_slack_settings_the_endpoint_is_off(client, db, settings) -> None:
    settings.SLACK_SIGNING_SECRET = ""
    body = slash_body("help")
    assert post(client, body, **sign(body)).status_code == 503
