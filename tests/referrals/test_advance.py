"""referral_advance: timestamped stage changes, stale events, and rewards that follow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from referrals.models import ReferralReward, RewardRule, Stage
from referrals.services import ReferralError, referral_advance
from rewards.models import LedgerEntry
from rewards.services.ledger import points_award, points_spend
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(owned_advocate):
    return ReferralFactory(advocate=owned_advocate, created_at=timezone.now() - timedelta(days=10))


def _balance(advocate) -> int:
    advocate.refresh_from_db()
    assert advocate.balance == sum(e.amount for e in advocate.ledger_entries.all())
    return advocate.balance


def test_each_change_is_timestamped(referral, rep):
    t1 = timezone.now() - timedelta(days=5)
    t2 = timezone.now() - timedelta(days=2)
    referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED, actor=rep, occurred_at=t1)
    referral_advance(referral_id=referral.pk, stage=Stage.OPPORTUNITY, occurred_at=t2)
    referral.refresh_from_db()
    assert referral.stage == Stage.OPPORTUNITY
    assert referral.stage_changed_at == t2
    changes = list(referral.changes.values_list("from_stage", "to_stage", "occurred_at"))
    assert changes == [
        (Stage.SUBMITTED, Stage.QUALIFIED, t1),
        (Stage.QUALIFIED, Stage.OPPORTUNITY, t2),
    ]


def test_stale_change_does_not_move_it_back(referral):
    now = timezone.now()
    referral_advance(referral_id=referral.pk, stage=Stage.OPPORTUNITY, occurred_at=now)
    result = referral_advance(
        referral_id=referral.pk, stage=Stage.QUALIFIED, occurred_at=now - timedelta(hours=1)
    )
    assert (result.applied, result.reason) == (False, "stale")
    referral.refresh_from_db()
    assert referral.stage == Stage.OPPORTUNITY
    assert referral.changes.count() == 1


def test_same_stage_is_a_no_op(referral):
    referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED)
    result = referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED)
    assert (result.applied, result.reason) == (False, "unchanged")
    assert referral.changes.count() == 1


def test_rejecting_needs_a_reason_and_closes_it(referral):
    with pytest.raises(ReferralError, match="why"):
        referral_advance(referral_id=referral.pk, stage=Stage.REJECTED)
    referral_advance(referral_id=referral.pk, stage=Stage.REJECTED, reason="invalid")
    with pytest.raises(ReferralError, match="rejected"):
        referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED)


def test_unknown_stage_refused(referral):
    with pytest.raises(ReferralError):
        referral_advance(referral_id=referral.pk, stage="closed-ish")


def test_won_pays_fixed_reward_once_with_the_documented_key(referral):
    RewardRuleFactory(fixed_points=500)
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("9000"))
    referral_advance(referral_id=referral.pk, stage=Stage.WON)  # no-op
    entry = LedgerEntry.objects.get(idempotency_key=f"referral:{referral.pk}:won-reward")
    assert entry.amount == 500
    assert _balance(referral.advocate) == 500
    reward = ReferralReward.objects.get(referral=referral, kind="won")
    assert (reward.points, reward.status) == (500, "paid")


@pytest.mark.parametrize(
    ("rule", "amount", "points"),
    [
        ({"kind": "percent", "percent": Decimal("2.5")}, Decimal("12000.00"), 300),
        ({"kind": "percent", "percent": Decimal("2.5"), "cap_points": 200}, Decimal("12000"), 200),
        ({"kind": "percent", "percent": Decimal("1")}, Decimal("199.99"), 1),  # floored
        ({"kind": "fixed", "fixed_points": 800, "cap_points": 500}, None, 500),
        (
            {
                "kind": "tiers",
                "tiers": [
                    {"min_amount": "0", "points": 100},
                    {"min_amount": "10000", "points": 400},
                    {"min_amount": "50000", "points": 1000},
                ],
            },
            Decimal("10000"),
            400,
        ),
        ({"kind": "tiers", "tiers": [{"min_amount": "5000", "points": 300}]}, Decimal("10"), 0),
    ],
)
def test_rule_kinds(referral, rule, amount, points):
    RewardRule.objects.create(name="r", **({"fixed_points": 0} | rule))
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=amount)
    assert _balance(referral.advocate) == points
    assert ReferralReward.objects.filter(referral=referral).count() == (1 if points else 0)


def test_qualified_reward_once_even_when_skipping_to_won(referral):
    RewardRuleFactory(fixed_points=500, qualified_points=50)
    referral_advance(referral_id=referral.pk, stage=Stage.OPPORTUNITY)
    referral_advance(referral_id=referral.pk, stage=Stage.WON)
    assert _balance(referral.advocate) == 550
    assert LedgerEntry.objects.filter(
        idempotency_key=f"referral:{referral.pk}:qualified-reward"
    ).exists()


def test_won_moved_back_reverses_with_a_visible_entry(referral):
    RewardRuleFactory(fixed_points=500)
    t = timezone.now()
    referral_advance(referral_id=referral.pk, stage=Stage.WON, occurred_at=t - timedelta(hours=2))
    referral_advance(referral_id=referral.pk, stage=Stage.LOST, occurred_at=t - timedelta(hours=1))
    assert _balance(referral.advocate) == 0
    reward = ReferralReward.objects.get(referral=referral)
    assert reward.status == "reversed"
    assert reward.reversal_entry.kind == LedgerEntry.Kind.REVERSAL
    assert reward.reversal_entry.amount == -500
    # Won again later: a second round is paid under its own key.
    referral_advance(referral_id=referral.pk, stage=Stage.WON, occurred_at=t)
    assert _balance(referral.advocate) == 500
    assert LedgerEntry.objects.filter(
        idempotency_key=f"referral:{referral.pk}:won-reward:2"
    ).exists()


def test_reversal_of_spent_points_is_recorded_as_owed(referral):
    RewardRuleFactory(fixed_points=500)
    advocate = referral.advocate
    t = timezone.now()
    referral_advance(referral_id=referral.pk, stage=Stage.WON, occurred_at=t - timedelta(hours=2))
    points_spend(advocate_id=advocate.pk, amount=450, reason="Hoodie", idempotency_key="s1")
    referral_advance(
        referral_id=referral.pk, stage=Stage.OPPORTUNITY, occurred_at=t - timedelta(hours=1)
    )
    assert _balance(advocate) == 50  # never negative
    reward = ReferralReward.objects.get(referral=referral)
    assert reward.status == "owed"
    assert reward.reversal_entry is None
    # Won again: nothing is owed any more, and nothing is paid twice.
    referral_advance(referral_id=referral.pk, stage=Stage.WON, occurred_at=t)
    reward.refresh_from_db()
    assert reward.status == "paid"
    assert _balance(advocate) == 50
    assert ReferralReward.objects.filter(referral=referral).count() == 1


def test_no_rule_no_reward(referral):
    referral_advance(referral_id=referral.pk, stage=Stage.WON)
    assert _balance(referral.advocate) == 0


def test_won_sets_won_at_and_amount(referral):
    points_award(advocate_id=referral.advocate_id, amount=1, reason="x", idempotency_key="x")
    t = timezone.now()
    referral_advance(
        referral_id=referral.pk, stage=Stage.WON, amount=Decimal("1200.50"), occurred_at=t
    )
    referral.refresh_from_db()
    assert (referral.won_at, referral.deal_amount) == (t, Decimal("1200.50"))
    referral_advance(referral_id=referral.pk, stage=Stage.LOST)
    referral.refresh_from_db()
    assert referral.won_at is None


def test_won_tells_challenges_progress(referral, django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    import challenges.services.progress

    monkeypatch.setattr(challenges.services.progress, "on_activity", lambda **kw: calls.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        referral_advance(referral_id=referral.pk, stage=Stage.WON)
    assert calls == [{"advocate_id": referral.advocate_id}]


def test_amount_arriving_after_won_pays_a_percent_reward_once(referral):
    RewardRule.objects.create(name="r", kind="percent", percent=Decimal(2))
    t = timezone.now()
    referral_advance(referral_id=referral.pk, stage=Stage.WON, occurred_at=t)
    assert _balance(referral.advocate) == 0
    result = referral_advance(
        referral_id=referral.pk, stage=Stage.WON, amount=Decimal("5000"), occurred_at=t
    )
    assert (result.applied, result.reason) == (True, "amount")
    assert _balance(referral.advocate) == 100
    # The same amount again pays nothing more (a corrected one: test_reward_corrections).
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("5000"))
    assert _balance(referral.advocate) == 100
