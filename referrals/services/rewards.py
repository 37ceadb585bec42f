"""A referral's rewards: paid when it reaches qualified and won, reversed when it stops
being won, corrected when the deal amount of a won referral changes.

Called by ``referral_advance`` only, inside its transaction and under the referral's row
lock, so two events for one referral never pay or correct at the same time. Points move
only through the ledger; each payout is a ``ReferralReward`` round with its own
idempotency key.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from referrals.models import Referral, ReferralReward, RewardRule
from rewards.services.ledger import InsufficientPoints, points_award, points_reverse


def money(amount: Decimal | None) -> str:
    """12500 -> "12,500"; 12500.5 -> "12,500.50"; None -> "none"."""
    if amount is None:
        return "none"
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def qualified_key(referral_id: int) -> str:
    """The qualified reward's idempotency key (the CSV import pays with it too)."""
    return f"referral:{referral_id}:qualified-reward"


def qualified_reason(referral: Referral) -> str:
    return f"Referral qualified: {referral.referred_name}"


def won_reason(referral: Referral) -> str:
    return f"Referral won: {referral.referred_name}"


def pay_qualified(referral: Referral, rule: RewardRule) -> None:
    points = rule.qualified_reward_points()
    if points <= 0 or referral.rewards.filter(kind=ReferralReward.Kind.QUALIFIED).exists():
        return
    result = points_award(
        advocate_id=referral.advocate_id,
        amount=points,
        reason=qualified_reason(referral),
        idempotency_key=qualified_key(referral.pk),
        source=referral,
    )
    ReferralReward.objects.create(
        referral=referral,
        kind=ReferralReward.Kind.QUALIFIED,
        points=result.entry.amount,
        ledger_entry=result.entry,
    )


def won_key(referral_id: int, round_: int) -> str:
    """The won reward's idempotency key for ``round_`` (the CSV import pays round 1)."""
    base = f"referral:{referral_id}:won-reward"
    return base if round_ == 1 else f"{base}:{round_}"


def _latest_won(referral: Referral) -> ReferralReward | None:
    return referral.rewards.filter(kind=ReferralReward.Kind.WON).order_by("-round").first()


def pay_won(referral: Referral, rule: RewardRule | None) -> None:
    latest = _latest_won(referral)
    if latest is not None and latest.status == ReferralReward.Status.PAID:
        return
    if latest is not None and latest.status == ReferralReward.Status.OWED:
        # Won again while the reversal was still owed: the advocate keeps the points
        # they already have, and nothing is owed any more.
        latest.status = ReferralReward.Status.PAID
        latest.updated_at = timezone.now()
        latest.save(update_fields=["status", "updated_at"])
        return
    points = rule.won_points(referral.deal_amount) if rule is not None else 0
    _pay_round(
        referral,
        points=points,
        round_=latest.round + 1 if latest is not None else 1,
        reason=won_reason(referral),
    )


def _pay_round(referral: Referral, *, points: int, round_: int, reason: str) -> None:
    if points <= 0:
        return
    result = points_award(
        advocate_id=referral.advocate_id,
        amount=points,
        reason=reason[:255],
        idempotency_key=won_key(referral.pk, round_),
        source=referral,
    )
    ReferralReward.objects.create(
        referral=referral,
        kind=ReferralReward.Kind.WON,
        round=round_,
        points=result.entry.amount,
        ledger_entry=result.entry,
    )


def _reverse(reward: ReferralReward, *, reason: str) -> None:
    try:
        with transaction.atomic():
            result = points_reverse(
                entry_id=reward.ledger_entry_id,
                reason=reason,
                idempotency_key=f"{won_key(reward.referral_id, reward.round)}:reversed",
            )
    except InsufficientPoints:
        # The points were spent: the ledger never goes negative, so the reversal is
        # recorded as owed (shown to the advocate and in the admin) instead.
        reward.status = ReferralReward.Status.OWED
    else:
        reward.status = ReferralReward.Status.REVERSED
        reward.reversal_entry = result.entry
    reward.updated_at = timezone.now()
    reward.save(update_fields=["status", "reversal_entry", "updated_at"])


def reverse_won(referral: Referral) -> None:
    latest = referral.rewards.filter(
        kind=ReferralReward.Kind.WON, status=ReferralReward.Status.PAID
    ).first()
    if latest is not None:
        _reverse(latest, reason=f"Referral no longer won: {referral.referred_name}")


def won_amount_changed(referral: Referral, rule: RewardRule | None, *, old: Decimal | None) -> None:
    """The deal amount of a won referral changed (now ``referral.deal_amount``).

    If the paid reward no longer matches what the active rule pays on the new amount,
    it is reversed (or the reversal is owed, if the points were spent) and a new round
    is paid on the new amount: two entries the advocate sees in their points history.
    A fixed rule pays the same whatever the amount, so nothing changes under it; a
    won referral not yet paid (no amount until now) is paid now.
    """
    latest = _latest_won(referral)
    if latest is not None and latest.status == ReferralReward.Status.OWED:
        # A correction to no points whose reversal is still owed: as when won again,
        # nothing is owed any more; the new amount is then checked like any other.
        pay_won(referral, rule)
        latest.refresh_from_db()
    if latest is None or latest.status != ReferralReward.Status.PAID:
        pay_won(referral, rule)
        return
    if rule is None or not rule.depends_on_amount:
        return
    points = rule.won_points(referral.deal_amount)
    if points == latest.points:
        return
    change = f"Deal amount changed from {money(old)} to {money(referral.deal_amount)}"
    _reverse(latest, reason=f"{change}: reward for {referral.referred_name} corrected"[:255])
    _pay_round(
        referral,
        points=points,
        round_=latest.round + 1,
        reason=f"Referral won: {referral.referred_name}, on the corrected deal amount of "
        f"{money(referral.deal_amount)}",
    )
