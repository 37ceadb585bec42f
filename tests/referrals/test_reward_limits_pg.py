"""On PostgreSQL (32-bit points columns, real row locks): a huge amount is a 400, never
an overflow; amount corrections racing for one won referral leave one paid round."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import MAX_DEAL_AMOUNT_CEILING, MAX_POINTS_PER_EVENT_CEILING, ProgramSettings
from referrals.models import CrmEvent, ReferralReward, RewardRule, Stage
from referrals.services import referral_advance
from rewards.models import LedgerEntry
from tests.concurrency import POSTGRES_RACE, run_at_once, run_each_at_once
from tests.conftest import ledger_violations
from tests.referrals.crm import post_event
from tests.referrals.factories import ReferralFactory

pytestmark = POSTGRES_RACE


def _post(event: dict) -> tuple[int, dict]:
    return post_event({"type": "referral.stage_changed", "stage": "won"} | event)


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


def test_racing_amount_corrections_leave_one_paid_round(referral):
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("10000"))
    results = run_each_at_once(
        [
            lambda: _post({"id": "evt_a", "referral": str(referral.pk), "amount": "12500.00"}),
            lambda: _post({"id": "evt_b", "referral": str(referral.pk), "amount": "15000.00"}),
        ]
    )
    assert all(not isinstance(r, Exception) and r[0] == 200 for r in results), results
    referral.refresh_from_db()
    paid = ReferralReward.objects.filter(referral=referral, status="paid")
    assert paid.count() == 1
    assert paid.get().points == int(referral.deal_amount * 2 / 100)
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == paid.get().points
    assert ledger_violations() == []


def test_ten_identical_corrections_apply_once(referral):
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("10000"))
    results = run_at_once(
        lambda i: _post({"id": f"evt_{i}", "referral": str(referral.pk), "amount": "12500.00"})
    )
    assert all(not isinstance(r, Exception) and r[0] == 200 for r in results), results
    assert LedgerEntry.objects.count() == 3  # paid, reversed, paid again
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 250
