"""A won deal whose amount changes: the reward is corrected with two visible entries."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals.models import ReferralReward, RewardRule, Stage
from referrals.services import referral_advance
from referrals.webhooks import sign
from rewards.models import LedgerEntry
from rewards.services.ledger import points_spend
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

CORRECTED = "Deal amount changed from 10,000 to 12,500: reward for Grace Hopper corrected"


@pytest.fixture
def referral(owned_advocate):
    return ReferralFactory(
        advocate=owned_advocate,
        referred_name="Grace Hopper",
        external_id="SF-7",
        created_at=timezone.now() - timedelta(days=3),
    )


@pytest.fixture
def won(referral):
    """Won at 10,000 under a 2 % rule: 200 points paid."""
    RewardRule.objects.create(name="2 %", kind="percent", percent=Decimal(2))
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("10000"))
    return referral


def _balance(advocate) -> int:
    advocate.refresh_from_db()
    assert advocate.balance == sum(e.amount for e in advocate.ledger_entries.all())
    return advocate.balance


def _history(advocate) -> list[tuple[int, str]]:
    return list(advocate.ledger_entries.order_by("id").values_list("amount", "reason"))


def _crm(event_id: str, amount: str):
    body = json.dumps(
        {
            "id": event_id,
            "type": "referral.stage_changed",
            "referral": "SF-7",
            "stage": "won",
            "amount": amount,
        }
    ).encode()
    return Client().post(
        "/api/crm/events",
        data=body,
        content_type="application/json",
        HTTP_VOUCH_SIGNATURE=sign(body, secret="whsec_test"),
    )


def test_a_later_won_event_with_a_new_amount_corrects_the_reward(won):
    assert _crm("evt_2", "12500.00").status_code == 200
    advocate = won.advocate
    assert _balance(advocate) == 250
    assert _history(advocate) == [
        (200, "Referral won: Grace Hopper"),
        (-200, CORRECTED),
        (250, "Referral won: Grace Hopper, on the corrected deal amount of 12,500"),
    ]
    rounds = list(
        ReferralReward.objects.filter(referral=won).values_list("round", "points", "status")
    )
    assert rounds == [(1, 200, "reversed"), (2, 250, "paid")]
    assert LedgerEntry.objects.filter(
        idempotency_key=f"referral:{won.pk}:won-reward:2", amount=250
    ).exists()
    won.refresh_from_db()
    assert won.deal_amount == Decimal("12500.00")


def test_the_advocate_and_staff_see_both_entries(won, advocate_client, manager_client):
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("12500"))
    hub = advocate_client.get(reverse("advocates:hub")).content.decode()
    staff = manager_client.get(reverse("advocates:detail", args=[won.advocate.pk]))
    for body in (hub, staff.content.decode()):
        assert CORRECTED in body
        assert "on the corrected deal amount of 12,500" in body
        assert "+250" in body
        assert "-200" in body


def test_the_same_amount_again_changes_nothing(won):
    before = _history(won.advocate)
    assert _crm("evt_2", "10000.00").status_code == 200
    assert _crm("evt_3", "10000").status_code == 200
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("10000.00"))
    assert _history(won.advocate) == before
    assert ReferralReward.objects.filter(referral=won).count() == 1


def test_a_retried_correction_applies_once(won):
    assert _crm("evt_2", "12500.00").status_code == 200
    assert _crm("evt_2", "12500.00").status_code == 200  # the CRM retries the same event
    assert _crm("evt_3", "12500.00").status_code == 200  # or sends it again with a new id
    assert _balance(won.advocate) == 250
    assert LedgerEntry.objects.count() == 3


def test_an_amount_that_pays_the_same_changes_nothing_but_the_amount(won):
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("10020"))  # 200.4
    assert LedgerEntry.objects.count() == 1
    won.refresh_from_db()
    assert won.deal_amount == Decimal("10020")


def test_a_fixed_rule_pays_the_same_whatever_the_amount(referral):
    RewardRule.objects.create(name="fixed", kind="fixed", fixed_points=500)
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("10000"))
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("90000"))
    assert _balance(referral.advocate) == 500
    assert LedgerEntry.objects.count() == 1


def test_a_correction_down_takes_the_difference_back(won):
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("2500.50"))
    assert _balance(won.advocate) == 50
    assert _history(won.advocate)[1] == (
        -200,
        "Deal amount changed from 10,000 to 2,500.50: reward for Grace Hopper corrected",
    )


def test_a_correction_when_the_points_were_spent_is_owed(won):
    advocate = won.advocate
    points_spend(advocate_id=advocate.pk, amount=150, reason="Hoodie", idempotency_key="s1")
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("12500"))
    # The 200 cannot be taken back (50 left, never negative): that reversal is owed,
    # and the corrected reward is paid.
    assert _balance(advocate) == 300
    rounds = list(
        ReferralReward.objects.filter(referral=won).values_list("round", "points", "status")
    )
    assert rounds == [(1, 200, "owed"), (2, 250, "paid")]
    # Lost later: the round paid is the one reversed; the owed one stays owed.
    referral_advance(referral_id=won.pk, stage=Stage.LOST)
    assert _balance(advocate) == 50
    assert list(ReferralReward.objects.filter(referral=won).values_list("round", "status")) == [
        (1, "owed"),
        (2, "reversed"),
    ]


def test_a_correction_to_no_points_then_back(won):
    RewardRule.objects.all().delete()
    RewardRule.objects.create(
        name="tiers",
        kind="tiers",
        tiers=[{"min_amount": "5000", "points": 200}, {"min_amount": "20000", "points": 600}],
    )
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("1000"))
    assert _balance(won.advocate) == 0
    referral_advance(referral_id=won.pk, stage=Stage.WON, amount=Decimal("25000"))
    assert _balance(won.advocate) == 600
    assert list(
        ReferralReward.objects.filter(referral=won).values_list("round", "points", "status")
    ) == [(1, 200, "reversed"), (2, 600, "paid")]
