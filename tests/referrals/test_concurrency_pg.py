"""Races on PostgreSQL: replayed CRM events, concurrent wins, the daily limit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import CrmEvent, Referral, ReferralReward, ReferralStageChange, Stage
from referrals.services import ReferralError, referral_create
from rewards.models import LedgerEntry
from tests.concurrency import POSTGRES_RACE, run_at_once
from tests.referrals.crm import post_event
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = POSTGRES_RACE


def _post(event: dict) -> tuple[int, dict]:
    return post_event(event)


@pytest.fixture
def referral(owned_advocate):
    RewardRuleFactory(fixed_points=500)
    return ReferralFactory(advocate=owned_advocate, created_at=timezone.now() - timedelta(days=2))


def test_ten_concurrent_identical_events_apply_once(referral):
    event = {
        "id": "evt_race",
        "type": "referral.stage_changed",
        "referral": str(referral.pk),
        "stage": "won",
        "amount": "12000.00",
        "occurred_at": timezone.now().isoformat(),
    }
    results = run_at_once(threads=10, call=lambda i: _post(event))
    assert all(not isinstance(r, Exception) for r in results), results
    assert {status for status, _ in results} == {200}
    bodies = {json.dumps(body, sort_keys=True) for _, body in results}
    assert len(bodies) == 1  # every caller got the first result
    assert json.loads(bodies.pop())["applied"] is True
    assert CrmEvent.objects.count() == 1
    assert ReferralStageChange.objects.filter(referral=referral).count() == 1
    assert LedgerEntry.objects.filter(advocate=referral.advocate).count() == 1
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 500


def test_ten_concurrent_different_won_events_pay_once(referral):
    occurred = timezone.now().isoformat()

    def work(i: int):
        return _post(
            {
                "id": f"evt_{i}",
                "type": "referral.stage_changed",
                "referral": str(referral.pk),
                "stage": "won",
                "occurred_at": occurred,
            }
        )

    results = run_at_once(threads=10, call=work)
    assert all(not isinstance(r, Exception) for r in results), results
    applied = [body for status, body in results if body.get("applied")]
    assert len(applied) == 1
    referral.refresh_from_db()
    assert referral.stage == Stage.WON
    assert ReferralReward.objects.filter(referral=referral).count() == 1
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 500


def test_daily_limit_holds_under_concurrent_submissions(owned_advocate, settings):
    settings.REFERRAL_DAILY_LIMIT = 3

    def work(i: int):
        return referral_create(
            advocate_id=owned_advocate.pk,
            method="lead_form",
            referred_name=f"Lead {i}",
            referred_email=f"lead{i}@buyer{i}.example",
        )

    results = run_at_once(threads=8, call=work)
    created = [r for r in results if isinstance(r, Referral)]
    refused = [r for r in results if isinstance(r, ReferralError)]
    assert (len(created), len(refused)) == (3, 5), results
    assert Referral.objects.filter(advocate=owned_advocate).count() == 3


def test_two_advocates_referring_the_same_person_at_once_flag_one_duplicate(owned_advocate):
    from tests.factories import AdvocateFactory

    advocates = [owned_advocate, *(AdvocateFactory() for _ in range(5))]

    def work(i: int):
        return referral_create(
            advocate_id=advocates[i].pk,
            method="lead_form",
            referred_name="Sought After",
            referred_email="sought@buyer.example" if i % 2 else f"other{i}@buyer.example",
        )

    results = run_at_once(threads=6, call=work)
    assert all(isinstance(r, Referral) for r in results), results
    # Same email or same open company domain: exactly one counts, the rest are duplicates.
    assert Referral.objects.exclude(stage=Stage.REJECTED).count() == 1
    first = Referral.objects.get(stage=Stage.SUBMITTED)
    assert set(
        Referral.objects.filter(stage=Stage.REJECTED).values_list("duplicate_of", flat=True)
    ) == {first.pk}
