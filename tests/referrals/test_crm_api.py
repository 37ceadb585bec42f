"""The CRM API: signature, freshness, idempotency, stale events; and what a CRM subscribed
to referral events through a console webhook endpoint receives."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import webhooks
from referrals.models import CrmEvent, ReferralStageChange, Stage
from referrals.services import referral_create
from referrals.webhooks import SignatureError, sign, verify
from rewards.models import LedgerEntry
from tests.core.webhook_receiver import receiver
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


def test_an_event_signed_with_a_webhook_endpoints_secret_is_refused(referral, manager):
    # A CRM subscribed to our events knows its endpoint's secret: it must not sign
    # inbound events that pay rewards with it.
    endpoint = webhooks.endpoint_create(url="https://crm.example/hooks/vouch", by=manager)
    body = _event(referral, stage="won", amount="5000.00")
    response = _post(body, header=sign(body, secret=endpoint.secret))
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.stage != Stage.WON
    assert (
        not LedgerEntry.objects.filter(advocate_id=referral.advocate_id)
        .exclude(reason__startswith="Welcome")
        .exists()
    )
    assert not CrmEvent.objects.exists()


def test_verify_accepts_any_of_several_v1_during_rotation():
    body = b"{}"
    t = int(time.time())
    header = f"t={t},v1=0000,v1={sign(body, secret=SECRET, timestamp=t).split('v1=')[1]}"
    verify(header, body, secret=SECRET)  # raises if no v1 matches
    with pytest.raises(SignatureError):
        verify(f"t={t},v1=0000", body, secret=SECRET)


def test_a_crm_endpoint_hears_of_new_referrals_signed_and_after_commit(
    owned_advocate, manager, django_capture_on_commit_callbacks
):
    with receiver() as hook, django_capture_on_commit_callbacks(execute=True):
        endpoint = webhooks.endpoint_create(
            url=hook.url, by=manager, event_types=["referral.created", "referral.stage_changed"]
        )
        referral = referral_create(
            advocate_id=owned_advocate.pk,
            method="lead_form",
            referred_name="Pat",
            referred_email="pat@prospect.example",
        )
    (body,) = hook.verified(endpoint.secret)  # raises unless signed with its secret
    assert body["type"] == "referral.created"
    assert (body["data"]["referral"], body["data"]["source"]) == (referral.pk, "system")


def test_a_change_the_crm_reported_is_marked_so_the_crm_can_skip_its_echo(
    referral, manager, django_capture_on_commit_callbacks
):
    with receiver() as hook, django_capture_on_commit_callbacks(execute=True):
        endpoint = webhooks.endpoint_create(
            url=hook.url, by=manager, event_types=["referral.stage_changed"]
        )
        assert _post(_event(referral)).status_code == 200
    (body,) = hook.verified(endpoint.secret)
    assert (body["type"], body["data"]["source"]) == ("referral.stage_changed", "crm")


def test_other_advocate_unaffected(referral):
    other = AdvocateFactory()
    _post(_event(referral))
    other.refresh_from_db()
    assert other.balance == 0


def test_each_stage_event_describes_its_own_change_even_if_sent_late(owned_advocate, manager):
    from decimal import Decimal

    from referrals.services import referral_advance

    endpoint = webhooks.endpoint_create(url="https://crm.example/hooks/vouch", by=manager)
    referral = referral_create(
        advocate_id=owned_advocate.pk,
        method="lead_form",
        referred_name="Late",
        referred_email="late@buyer.example",
    )
    referral_advance(referral_id=referral.pk, stage=Stage.OPPORTUNITY, amount=Decimal("1000"))
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("2500"))
    # Nothing was sent yet (no commit in this test): each payload was fixed when emitted.
    amounts = [
        (d.payload["data"]["stage"], d.payload["data"]["deal_amount"])
        for d in endpoint.deliveries.filter(event_type="referral.stage_changed").order_by("pk")
    ]
    assert amounts == [("opportunity", "1000.00"), ("won", "2500.00")]
