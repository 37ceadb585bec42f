"""The CRM API: signature, freshness, idempotency, stale events, and the outbound webhook."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals.models import CrmEvent, Referral, ReferralStageChange, Stage
from referrals.services import referral_create
from referrals.webhooks import SignatureError, sign, verify
from rewards.models import LedgerEntry
from tests.factories import AdvocateFactory
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_test"
URL = "/api/crm/events"


def _post(body: bytes, *, header: str | None = "sign", timestamp: int | None = None):
    headers = {}
    if header == "sign":
        headers["HTTP_VOUCH_SIGNATURE"] = sign(body, secret=SECRET, timestamp=timestamp)
    elif header is not None:
        headers["HTTP_VOUCH_SIGNATURE"] = header
    return Client(enforce_csrf_checks=True).post(
        URL, data=body, content_type="application/json", **headers
    )


def _event(target, **kwargs) -> bytes:
    event = {
        "id": "evt_1",
        "type": "referral.stage_changed",
        "referral": str(target.pk),
        "stage": "won",
        "amount": "12000.00",
        "occurred_at": timezone.now().isoformat(),
    } | kwargs
    return json.dumps(event).encode()


@pytest.fixture
def referral(owned_advocate):
    RewardRuleFactory(fixed_points=500)
    return ReferralFactory(
        advocate=owned_advocate,
        external_id="SF-0001",
        created_at=timezone.now() - timedelta(days=3),
    )


def test_url_is_the_documented_one():
    assert reverse("referrals:crm_events") == URL


def _one_byte_changed(body: bytes) -> tuple[bytes, str]:
    header = sign(body, secret=SECRET)
    return body.replace(b"12000.00", b"92000.00"), header


@pytest.mark.parametrize(
    ("case", "status", "stage_after", "points_after"),
    [
        ("valid", 200, "won", 500),
        ("one byte changed", 400, "submitted", 0),
        ("missing header", 400, "submitted", 0),
        ("6-minute-old timestamp", 400, "submitted", 0),
        ("malformed body", 400, "submitted", 0),
        ("unknown stage", 400, "submitted", 0),
        ("unknown referral", 404, "submitted", 0),
    ],
)
def test_case_table(referral, case, status, stage_after, points_after):
    body = _event(referral)
    if case == "valid":
        response = _post(body)
    elif case == "one byte changed":
        tampered, header = _one_byte_changed(body)
        response = _post(tampered, header=header)
    elif case == "missing header":
        response = _post(body, header=None)
    elif case == "6-minute-old timestamp":
        response = _post(body, timestamp=int(time.time()) - 6 * 60)
    elif case == "malformed body":
        response = _post(b'{"id": "evt_1", "type": ')
    elif case == "unknown stage":
        response = _post(_event(referral, stage="closed"))
    else:
        response = _post(_event(referral, referral="SF-9999"))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if status != 200:
        assert "error" in response.json()
        assert not CrmEvent.objects.exists()  # an error is not stored: the id may be resent
    referral.refresh_from_db()
    assert referral.stage == stage_after
    assert referral.advocate.ledger_entries.filter(amount__gt=0).count() == (
        1 if points_after else 0
    )


def test_valid_event_by_external_id_records_crm_change(referral):
    response = _post(_event(referral, referral="SF-0001"))
    assert response.status_code == 200
    assert response.json() == {
        "id": "evt_1",
        "referral": str(referral.pk),
        "stage": "won",
        "applied": True,
    }
    change = referral.changes.get()
    assert change.source == ReferralStageChange.Source.CRM
    referral.refresh_from_db()
    assert str(referral.deal_amount) == "12000.00"


def test_replayed_won_pays_once_and_returns_the_first_result(referral):
    body = _event(referral)
    first = _post(body)
    # Meanwhile a rep moved it on; a replay must not re-apply the old event.
    replay = _post(body)
    assert replay.status_code == first.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert (
        LedgerEntry.objects.filter(idempotency_key=f"referral:{referral.pk}:won-reward").count()
        == 1
    )
    assert referral.advocate.ledger_entries.count() == 1
    assert CrmEvent.objects.count() == 1


def test_stale_event_is_acknowledged_but_does_not_move_it_back(referral):
    now = timezone.now()
    assert (
        _post(
            _event(referral, id="e1", stage="opportunity", occurred_at=now.isoformat())
        ).status_code
        == 200
    )
    older = (now - timedelta(hours=1)).isoformat()
    response = _post(_event(referral, id="e2", stage="qualified", occurred_at=older))
    assert response.status_code == 200
    assert response.json()["applied"] is False
    assert response.json()["reason"] == "stale"
    referral.refresh_from_db()
    assert referral.stage == Stage.OPPORTUNITY


def test_future_timestamp_refused(referral):
    response = _post(_event(referral), timestamp=int(time.time()) + 6 * 60)
    assert response.status_code == 400


def test_api_disabled_without_secret(referral, settings):
    settings.CRM_INBOUND_SECRET = ""
    response = _post(_event(referral))
    assert response.status_code == 503
    assert "not enabled" in response.json()["error"]


def test_an_event_signed_with_the_outbound_secret_is_refused(referral, settings):
    # Whoever receives our events knows the outbound secret: it must not sign inbound ones.
    body = _event(referral, stage="won", amount="5000.00")
    header = sign(body, secret=settings.CRM_OUTBOUND_SECRET)
    response = _post(body, header=header)
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.stage != Stage.WON
    assert (
        not LedgerEntry.objects.filter(advocate_id=referral.advocate_id)
        .exclude(reason__startswith="Welcome")
        .exists()
    )
    assert not CrmEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["t=abc,v1=00", "v1=deadbeef", "t=1700000000", "garbage"],
)
def test_malformed_signature_headers(referral, header):
    response = _post(_event(referral), header=header)
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-13-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T00:00:00"}, "timezone"),
        ({"type": "referral.deleted"}, "type"),
        ({"id": ""}, "id"),
    ],
)
def test_malformed_fields_change_nothing(referral, changes, message):
    response = _post(_event(referral, **changes))
    assert response.status_code == 400
    assert message in response.json()["error"]
    referral.refresh_from_db()
    assert referral.stage == Stage.SUBMITTED


def test_created_event_goes_through_the_same_checks(owned_advocate):
    base = {
        "type": "referral.created",
        "advocate_email": owned_advocate.user.email,
        "referred_name": "Pat",
        "referred_email": "pat@prospect.example",
        "external_id": "SF-7",
        "method": "verbal",
    }
    ok = _post(json.dumps(base | {"id": "c1"}).encode())
    assert ok.status_code == 201
    created = Referral.objects.get(external_id="SF-7")
    assert (created.method, created.advocate_id) == ("verbal", owned_advocate.pk)

    dupe = _post(json.dumps(base | {"id": "c2", "external_id": "SF-8"}).encode())
    assert dupe.status_code == 201
    assert dupe.json()["reason"] == "duplicate"
    assert dupe.json()["duplicate_of"] == str(created.pk)

    selfie = _post(
        json.dumps(
            base | {"id": "c3", "external_id": "SF-9", "referred_email": owned_advocate.user.email}
        ).encode()
    )
    assert selfie.status_code == 422
    assert "yourself" in selfie.json()["error"]
    assert not Referral.objects.filter(external_id="SF-9").exists()
    # The refusal is the event's result: a replay returns it again.
    assert (
        _post(
            json.dumps(
                base
                | {"id": "c3", "external_id": "SF-9", "referred_email": owned_advocate.user.email}
            ).encode()
        ).status_code
        == 422
    )


def test_verify_accepts_any_of_several_v1_during_rotation():
    body = b"{}"
    t = int(time.time())
    header = f"t={t},v1=0000,v1={sign(body, secret=SECRET, timestamp=t).split('v1=')[1]}"
    verify(header, body, secret=SECRET)  # raises if no v1 matches
    with pytest.raises(SignatureError):
        verify(f"t={t},v1=0000", body, secret=SECRET)


def test_outbound_webhook_is_signed_and_sent_after_commit(
    owned_advocate, settings, django_capture_on_commit_callbacks
):
    settings.CRM_WEBHOOK_URL = "https://crm.example/hooks/vouch"
    sent = []

    class FakeResponse:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(request, timeout):
        sent.append(request)
        return FakeResponse()

    with (
        mock.patch("urllib.request.urlopen", fake_urlopen),
        django_capture_on_commit_callbacks(execute=True),
    ):
        referral = referral_create(
            advocate_id=owned_advocate.pk,
            method="lead_form",
            referred_name="Pat",
            referred_email="pat@prospect.example",
        )
    assert len(sent) == 1
    request = sent[0]
    payload = json.loads(request.data)
    assert payload["type"] == "referral.created"
    assert payload["referral"] == str(referral.pk)
    signature = request.get_header("Vouch-signature")
    verify(signature, request.data, secret="whsec_outbound_test")  # raises if no v1 matches
    # Signed with the outbound secret only: what we send could never pass as inbound.
    with pytest.raises(SignatureError):
        verify(signature, request.data, secret=SECRET)


def test_outbound_webhook_retries_on_server_error(owned_advocate, settings):
    import urllib.error

    from referrals import webhooks

    settings.CRM_WEBHOOK_URL = "https://crm.example/hooks/vouch"
    referral = ReferralFactory(advocate=owned_advocate)
    change = ReferralStageChange.objects.create(
        referral=referral, to_stage="submitted", occurred_at=timezone.now()
    )
    error = urllib.error.HTTPError(settings.CRM_WEBHOOK_URL, 503, "busy", {}, None)
    with (
        mock.patch("urllib.request.urlopen", side_effect=error),
        pytest.raises(webhooks.WebhookRetryable),
    ):
        webhooks.deliver(change_id=change.pk)
    refused = urllib.error.HTTPError(settings.CRM_WEBHOOK_URL, 400, "bad", {}, None)
    with mock.patch("urllib.request.urlopen", side_effect=refused):
        assert webhooks.deliver(change_id=change.pk) == "refused: 400"


def test_crm_changes_are_not_echoed_back(referral, settings, django_capture_on_commit_callbacks):
    settings.CRM_WEBHOOK_URL = "https://crm.example/hooks/vouch"
    with (
        mock.patch("urllib.request.urlopen") as urlopen,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert _post(_event(referral)).status_code == 200
    urlopen.assert_not_called()


def test_other_advocate_unaffected(referral):
    other = AdvocateFactory()
    _post(_event(referral))
    other.refresh_from_db()
    assert other.balance == 0


def test_outbound_event_describes_its_own_change_even_if_sent_late(owned_advocate):
    from decimal import Decimal

    from referrals.services import referral_advance
    from referrals.webhooks import event_payload

    referral = referral_create(
        advocate_id=owned_advocate.pk,
        method="lead_form",
        referred_name="Late",
        referred_email="late@buyer.example",
    )
    referral_advance(referral_id=referral.pk, stage=Stage.OPPORTUNITY, amount=Decimal("1000"))
    change = ReferralStageChange.objects.filter(referral=referral).latest("pk")
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("2500"))

    assert event_payload(change)["amount"] == "1000.00"
