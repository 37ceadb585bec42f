"""Anything Slack could sign, Vouch answers without a crash and creates nothing it should
not: random command texts and interaction payloads with valid signatures."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from references.models import ReferenceRequest
from tests.integrations.conftest import TEAM_ID, sign

FORM = "application/x-www-form-urlencoded"
CALM = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=12,
)


@CALM
@given(text=st.text(max_size=300), team=st.sampled_from([TEAM_ID, "", "T0NOTHERE"]))
def test_any_signed_command_gets_a_slack_answer(
    client, slack_api, slack_clock, installation, text, team
) -> None:
    body = urlencode({"team_id": team, "user_id": "U1", "text": text, "trigger_id": "1.2.3"})
    response = client.post("/slack/commands/", data=body, content_type=FORM, **sign(body))
    assert response.status_code == 200
    if response.content:
        assert response.json()["response_type"] == "ephemeral"
    assert not ReferenceRequest.objects.exists()


@CALM
@given(
    payload=st.one_of(
        st.text(max_size=100),
        json_values.map(json.dumps),
        st.fixed_dictionaries(
            {
                "type": st.just("view_submission"),
                "team": st.one_of(st.none(), st.just({"id": TEAM_ID})),
                "user": json_values,
                "view": st.fixed_dictionaries(
                    {"callback_id": st.just("vouch_reference_request"), "state": json_values}
                ),
            }
        ).map(json.dumps),
    )
)
def test_any_signed_interaction_gets_an_answer_and_creates_nothing(
    client, slack_api, slack_clock, installation, payload
) -> None:
    body = urlencode({"payload": payload})
    response = client.post("/slack/interactivity/", data=body, content_type=FORM, **sign(body))
    assert response.status_code == 200
    if response.content:
        assert response.json()["response_action"] == "errors"
    assert not ReferenceRequest.objects.exists()


@pytest.fixture(autouse=True)
def _quiet_slack(slack_api) -> None:
    # Whatever Vouch asks, the loopback Slack refuses: no user is a rep here
    # (`user_not_found`, users.info's documented error, in Slack's error body).
    slack_api.expect_request("/api/users.info").respond_with_json(
        {"ok": False, "error": "user_not_found"}
    )
