"""On PostgreSQL (32-bit points columns): a huge amount is a 400, never an overflow."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from core.models import MAX_DEAL_AMOUNT_CEILING, MAX_POINTS_PER_EVENT_CEILING, ProgramSettings
from referrals.models import CrmEvent, RewardRule
from referrals.webhooks import sign
from rewards.models import LedgerEntry
from tests.concurrency import POSTGRES_RACE
from tests.referrals.factories import ReferralFactory

pytestmark = POSTGRES_RACE


def _post(event: dict) -> tuple[int, dict]:
    body = json.dumps({"type": "referral.stage_changed", "stage": "won"} | event).encode()
    response = Client().post(
        "/api/crm/events",
        data=body,
        content_type="application/json",
        HTTP_VOUCH_SIGNATURE=sign(body, secret="whsec_test"),
    )
    return response.status_code, response.json()


@pytest.fixture
def referral(owned_advocate):
    RewardRule.objects.create(name="2 %", kind="percent", percent=Decimal(2))
    return ReferralFactory(advocate=owned_advocate, created_at=timezone.now() - timedelta(days=2))


def test_the_huge_amount_of_the_issue_is_a_400_not_an_overflow(referral):
    status, body = _post(
        {"id": "evt_huge", "referral": str(referral.pk), "amount": "999999999999.99"}
    )
    assert status == 400
    assert "above the program's maximum deal amount" in body["error"]
    assert not CrmEvent.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_the_highest_limits_a_program_may_set_still_fit_32_bits(referral):
    program = ProgramSettings.load()
    program.max_deal_amount = MAX_DEAL_AMOUNT_CEILING
    program.max_points_per_event = MAX_POINTS_PER_EVENT_CEILING
    program.save()
    status, _ = _post(
        {"id": "evt_max", "referral": str(referral.pk), "amount": str(MAX_DEAL_AMOUNT_CEILING)}
    )
    assert status == 200
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == MAX_POINTS_PER_EVENT_CEILING  # not 2 % of a billion
