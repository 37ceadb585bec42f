"""The reference modal's submission: validated like the web form, created as the rep."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from references.models import ReferenceRequest
from tests import factories
from tests.integrations.conftest import TEAM_ID, answer, calls, recording, sign

URL = "/slack/interactivity/"
FORM = "application/x-www-form-urlencoded"
SLACK_EMAIL = "spengler@ghostbusters.example.com"


def _action(kind: str, value: str) -> dict[str, Any]:
    if kind == "static_select":
        return {
            "type": kind,
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    return {"type": kind, "value": value}


def submission(**overrides: str) -> str:
    """The recorded view_submission with Vouch's modal, workspace and answers."""
    answers = {
        "prospect_name": ("plain_text_input", "Dana Scully"),
        "prospect_email": ("email_text_input", "dana@fbi.example"),
        "prospect_title": ("plain_text_input", "Head of IT"),
        "prospect_company": ("plain_text_input", "Bureau Analytics"),
        "opportunity_name": ("plain_text_input", "Bureau — 200 seats"),
        "opportunity_amount": ("number_input", "48000.50"),
        "opportunity_stage": ("static_select", "evaluation"),
        "call_type": ("static_select", "video"),
        "needed_by": ("datepicker", (timezone.localdate() + timedelta(days=10)).isoformat()),
        "notes": ("plain_text_input", "Cares about SSO."),
    }
    for name, value in overrides.items():
        answers[name] = (answers[name][0], value)
    payload = recording("view_submission")
    payload["team"]["id"] = TEAM_ID
    payload["user"] |= {"id": "U2CERLKJA", "team_id": TEAM_ID}
    payload["view"]["callback_id"] = "vouch_reference_request"
    payload["view"]["state"] = {
        "values": {name: {"value": _action(kind, value)} for name, (kind, value) in answers.items()}
    }
    return urlencode({"payload": json.dumps(payload)})


def post(client, body: str, **headers: str):
    return client.post(URL, data=body, content_type=FORM, **headers)


@pytest.fixture
def slack_rep(db):
    return factories.RepFactory(email=SLACK_EMAIL, first_name="Egon")


def test_a_submitted_modal_creates_the_request_as_the_rep_and_confirms_by_dm(
    client, slack_api, slack_clock, installation, slack_rep, django_capture_on_commit_callbacks
) -> None:
    answer(slack_api, "users.info", "users.lookupByEmail")
    answer(slack_api, "conversations.open", "conversations.open")
    answer(slack_api, "chat.postMessage", "chat.postMessage")
    body = submission()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, **sign(body))
    assert response.status_code == 200
    assert response.content == b""  # Slack closes the modal
    created = ReferenceRequest.objects.get()
    assert created.rep == slack_rep
    assert created.prospect_email == "dana@fbi.example"
    assert created.prospect_company == "Bureau Analytics"
    assert created.opportunity_amount == Decimal("48000.50")
    assert created.call_type == "video"
    assert created.notes == "Cares about SSO."
    (dm,) = calls(slack_api, "chat.postMessage")
    assert dm["channel"] == "D069C7QFK"
    assert "Bureau Analytics" in dm["text"]
    assert f"/references/requests/{created.pk}/" in json.dumps(dm["blocks"])
    assert calls(slack_api, "conversations.open")[0]["users"] == "U2CERLKJA"


def test_bad_answers_come_back_under_their_fields_and_nothing_is_created(
    client, slack_api, slack_clock, installation, slack_rep
) -> None:
    answer(slack_api, "users.info", "users.lookupByEmail")
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    body = submission(prospect_email="not-an-email", needed_by=yesterday, prospect_name="")
    response = post(client, body, **sign(body))
    assert response.status_code == 200
    data = response.json()
    assert data["response_action"] == "errors"
    assert set(data["errors"]) == {"prospect_email", "needed_by", "prospect_name"}
    assert "from today on" in data["errors"]["needed_by"]
    assert not ReferenceRequest.objects.exists()


def test_a_slack_user_who_is_not_a_rep_cannot_submit(
    client, slack_api, slack_clock, installation
) -> None:
    factories.AdvocateFactory(user__email=SLACK_EMAIL)
    answer(slack_api, "users.info", "users.lookupByEmail")
    body = submission()
    data = post(client, body, **sign(body)).json()
    assert data["response_action"] == "errors"
    assert "Only Vouch's sales reps" in data["errors"]["prospect_name"]
    assert not ReferenceRequest.objects.exists()


def test_a_forged_submission_is_refused(
    client, slack_api, slack_clock, installation, slack_rep
) -> None:
    body = submission()
    forged = sign(body, secret="guessed")
    assert post(client, body, **forged).status_code == 401
    assert post(client, body).status_code == 401
    assert not ReferenceRequest.objects.exists()
    assert not slack_api.log


def test_other_interactions_are_acknowledged(client, slack_api, slack_clock, installation) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})})
    response = post(client, body, **sign(body))
    assert response.status_code == 200
    assert response.content == b""
