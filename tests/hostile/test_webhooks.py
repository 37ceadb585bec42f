"""The CRM webhook under forgery, replay and malformed bodies (extends tests/referrals/
test_crm_api.py, which covers the basic signature and field checks).

Every refusal is a 4xx JSON answer with an "error" message, and changes nothing:
no referral moved, no stage change, no event stored, no points.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from referrals.models import Referral, Stage
from referrals.webhooks import sign
from tests.hostile.harness import changed, table_counts
from tests.hostile.payloads import hostile_settings, scalar
from tests.hostile.tally import tried
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_hostile"
URL = "/api/crm/events"


@pytest.fixture(autouse=True)
def _crm(settings) -> None:
    settings.CRM_INBOUND_SECRET = SECRET


@pytest.fixture
def referral(advocate, rep):
    advocate.owner_rep = rep
    advocate.save(update_fields=["owner_rep"])
    RewardRuleFactory(fixed_points=500)
    return ReferralFactory(
        advocate=advocate, external_id="SF-1", created_at=timezone.now() - timedelta(days=3)
    )


def _post(body: bytes, header: str | None) -> object:
    tried("webhook requests")
    headers = {"HTTP_VOUCH_SIGNATURE": header} if header is not None else {}
    return Client(enforce_csrf_checks=True).post(
        URL, data=body, content_type="application/json", **headers
    )


def _won(referral: Referral, **changes: object) -> bytes:
    event = {
        "id": "evt_h1",
        "type": "referral.stage_changed",
        "referral": referral.external_id,
        "stage": "won",
        "amount": "12000.00",
        "occurred_at": timezone.now().isoformat(),
    } | changes
    return json.dumps(event).encode()


def _assert_refused(response, before: dict, status: int | tuple[int, ...] = 400) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].strip()
    assert not changed(before, table_counts())


FORGERIES = {
    "signed with another secret": lambda body: sign(body, secret="whsec_guess"),
    "signature of an empty body": lambda body: sign(b"", secret=SECRET),
    "v0 scheme only": lambda body: sign(body, secret=SECRET).replace("v1=", "v0="),
    "signature truncated": lambda body: sign(body, secret=SECRET)[:-8],
    "signature upper-cased": lambda body: sign(body, secret=SECRET).upper(),
    "timestamp changed after signing": lambda body: (
        "t=1," + sign(body, secret=SECRET).split(",", 1)[1]
    ),
    "old timestamp (1 hour)": lambda body: sign(
        body, secret=SECRET, timestamp=int(time.time()) - 3600
    ),
    "far-future timestamp": lambda body: sign(body, secret=SECRET, timestamp=2**40),
    "huge timestamp": lambda body: f"t={'9' * 5000},v1=00",
    "negative timestamp": lambda body: sign(body, secret=SECRET, timestamp=-1),
    "empty header": lambda body: "",
    "NUL in header": lambda body: "t=\x00,v1=\x00",
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
def test_forged_signatures_are_refused_and_change_nothing(referral, forgery) -> None:
    body = _won(referral)
    before = table_counts()
    _assert_refused(_post(body, FORGERIES[forgery](body)), before)
    referral.refresh_from_db()
    assert referral.stage == Stage.SUBMITTED


def test_a_valid_signature_over_another_body_is_refused(referral) -> None:
    signed = _won(referral, stage="qualified")
    header = sign(signed, secret=SECRET)
    before = table_counts()
    _assert_refused(_post(_won(referral), header), before)


def test_a_captured_request_replayed_after_the_tolerance_is_refused(referral) -> None:
    body = _won(referral)
    header = sign(body, secret=SECRET, timestamp=int(time.time()) - 301)
    before = table_counts()
    _assert_refused(_post(body, header), before)


def test_a_replayed_delivery_id_with_a_new_body_changes_nothing(referral) -> None:
    first = _post(_won(referral, stage="qualified"), None)  # unsigned: refused
    assert first.status_code == 400
    body = _won(referral, stage="qualified")
    assert _post(body, sign(body, secret=SECRET)).status_code == 200
    before = table_counts()
    # Same delivery id, validly signed, but asking for "won": the first result stands.
    again = _won(referral, stage="won")
    replay = _post(again, sign(again, secret=SECRET))
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["stage"] == "qualified"
    assert not changed(before, table_counts())
    referral.refresh_from_db()
    assert referral.stage == Stage.QUALIFIED


def _stage(**fields: str) -> bytes:
    event = {"id": "e1", "type": "referral.stage_changed", "stage": "won"} | fields
    return json.dumps(event).encode()


BODIES = {
    "oversized (65 KB)": (b'{"id": "' + b"x" * 66_000 + b'"}', 413),
    "not JSON": (b"<xml/>", 400),
    "not UTF-8": ('{"id": "é"}'.encode("latin-1"), 400),
    "UTF-16": ('{"id": "e1"}'.encode("utf-16"), 400),
    "a JSON list": (b"[1, 2, 3]", 400),
    "a JSON string": (b'"won"', 400),
    "null": (b"null", 400),
    "empty": (b"", 400),
    "integer over 4300 digits": (b'{"id": ' + b"9" * 5000 + b"}", 400),
    "nested 30,000 deep": (b"[" * 30_000 + b"]" * 30_000, 400),
    "NaN amount": (b'{"id": "e", "type": "referral.stage_changed", "amount": NaN}', 400),
    "id is an object": (b'{"id": {"$ne": null}, "type": "referral.stage_changed"}', 400),
    "id is NUL": (b'{"id": "\\u0000", "type": "referral.stage_changed"}', 400),
    "referral is NUL": (_stage(referral="SF\x00"), 400),
    "referral is a superscript digit": (_stage(referral="\u00b2"), 404),
    "referral id past any integer column": (_stage(referral="9" * 99), 404),
    "name is NUL (created)": (
        json.dumps(
            {
                "id": "c",
                "type": "referral.created",
                "advocate_email": "ada@example.com",
                "referred_name": "\x00",
                "referred_email": "p@x.example",
            }
        ).encode(),
        400,
    ),
}


@pytest.mark.parametrize("case", BODIES, ids=list(BODIES))
def test_malformed_bodies_with_a_valid_signature_are_refused(referral, case) -> None:
    body, status = BODIES[case]
    before = table_counts()
    _assert_refused(_post(body, sign(body, secret=SECRET)), before, status)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), scalar),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
EVENT_KEYS = [
    "id",
    "type",
    "referral",
    "stage",
    "amount",
    "occurred_at",
    "advocate_email",
    "referred_name",
    "referred_email",
    "method",
    "external_id",
]


@hostile_settings(40)
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            key: json_value
            | st.sampled_from(
                [
                    "referral.stage_changed",
                    "referral.created",
                    "won",
                    "SF-1",
                    "1",
                    "verbal",
                    "ada@example.com",
                    "2026-01-01T00:00:00Z",
                ]
            )
            for key in EVENT_KEYS
        },
    )
)
def test_any_signed_json_gets_a_json_answer_never_a_crash(referral, fields: dict) -> None:
    body = json.dumps(fields, allow_nan=True).encode()
    before = table_counts()
    response = _post(body, sign(body, secret=SECRET))
    assert response.status_code < 500
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400 and response.status_code != 422:
        _assert_refused(response, before, response.status_code)
