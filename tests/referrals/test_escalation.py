"""Escalating referral rewards: the advocate's Nth won referral earns the won reward times
the count tier's multiplier, and the tracker says what the next one earns."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.forms import RewardRuleForm
from referrals.models import ReferralReward, RewardRule, Stage
from referrals.services import referral_advance
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db

TIERS = [{"min_won": 3, "multiplier": "1.5"}, {"min_won": 6, "multiplier": "2"}]


def _win(advocate, *, amount=None, at=None):
    referral = ReferralFactory(advocate=advocate, created_at=timezone.now() - timedelta(days=30))
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=amount, occurred_at=at)
    return referral


def _won_points(referral) -> list[int]:
    return list(
        referral.rewards.filter(kind=ReferralReward.Kind.WON, status="paid").values_list(
            "points", flat=True
        )
    )


def test_each_won_referral_earns_its_count_tiers_multiplier(owned_advocate):
    RewardRuleFactory(fixed_points=100, count_tiers=TIERS)
    earned = [_won_points(_win(owned_advocate))[0] for _ in range(7)]
    assert earned == [100, 100, 150, 150, 150, 200, 200]
    owned_advocate.refresh_from_db()
    assert owned_advocate.balance == sum(earned)


def test_tiers_by_count_combine_with_tiers_by_deal_amount(owned_advocate):
    RewardRuleFactory(
        kind=RewardRule.Kind.TIERS,
        fixed_points=0,
        tiers=[{"min_amount": "0", "points": 100}, {"min_amount": "10000", "points": 400}],
        count_tiers=[{"min_won": 2, "multiplier": "1.5"}],
    )
    first = _win(owned_advocate, amount=Decimal(20000))
    second = _win(owned_advocate, amount=Decimal(500))
    assert _won_points(first) == [400]
    assert _won_points(second) == [150]

    # The first won deal's amount corrected down: still the first, so ×1.
    referral_advance(referral_id=first.pk, stage=Stage.WON, amount=Decimal(900))
    assert _won_points(first) == [100]


def test_a_referral_that_stops_being_won_no_longer_counts(owned_advocate):
    RewardRuleFactory(fixed_points=100, count_tiers=[{"min_won": 2, "multiplier": "3"}])
    first = _win(owned_advocate)
    referral_advance(referral_id=first.pk, stage=Stage.LOST)
    assert _won_points(_win(owned_advocate)) == [100]  # the first won one again


def test_the_tracker_says_what_the_next_won_referral_earns(owned_advocate, advocate_client):
    RewardRuleFactory(fixed_points=100, count_tiers=TIERS)
    page = advocate_client.get(reverse("referrals:tracker")).content.decode()
    assert "Your next won referral (your 1st) earns <strong>100 points</strong>" in page
    assert "From your 3rd won referral: ×1.5." in page
    _win(owned_advocate)
    _win(owned_advocate)
    page = advocate_client.get(reverse("referrals:tracker")).content.decode()
    assert "(your 3rd) earns <strong>150 points</strong> (×1.5)" in page
    assert "From your 6th won referral: ×2." in page


def test_the_tracker_for_a_rule_by_deal_amount(owned_advocate, advocate_client):
    RewardRuleFactory(kind=RewardRule.Kind.PERCENT, percent=Decimal(1), count_tiers=TIERS)
    for _ in range(5):
        _win(owned_advocate, amount=Decimal(1000))
    page = advocate_client.get(reverse("referrals:tracker")).content.decode()
    assert "(your 6th) earns the reward for its deal <strong>×2</strong>." in page


def _form(count_tiers: str) -> RewardRuleForm:
    return RewardRuleForm(
        {
            "name": "Rule",
            "kind": "fixed",
            "fixed_points": 100,
            "percent": "0",
            "tiers": "[]",
            "qualified_points": 0,
            "second_generation_points": 0,
            "count_tiers": count_tiers,
        }
    )


@pytest.mark.parametrize(
    ("count_tiers", "message"),
    [
        ('[{"min_won": 0, "multiplier": "2"}]', "min_won must be a count of 1 or more"),
        ('[{"min_won": 3, "multiplier": "-1"}]', "multiplier must be from 0 to 10"),
        ('[{"min_won": 3}]', "each tier must be"),
        (
            '[{"min_won": 3, "multiplier": "2"}, {"min_won": 3, "multiplier": "3"}]',
            "start at the same count",
        ),
    ],
)
def test_the_rule_form_refuses_bad_count_tiers(count_tiers, message):
    form = _form(count_tiers)
    assert not form.is_valid()
    assert message in str(form.errors["count_tiers"])


def test_the_rule_form_sorts_count_tiers():
    form = _form('[{"min_won": 6, "multiplier": 2}, {"min_won": 3, "multiplier": "1.5"}]')
    assert form.is_valid(), form.errors
    assert form.cleaned_data["count_tiers"] == [
        {"min_won": 3, "multiplier": "1.5"},
        {"min_won": 6, "multiplier": "2"},
    ]
