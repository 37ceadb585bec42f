"""A referral's rewards: paid when it reaches qualified and won, reversed when it stops
being won, corrected when the deal amount of a won referral changes.

Called by ``referral_advance`` only, inside its transaction and under the referral's row
lock, so two events for one referral never pay or correct at the same time. Points move
only through the ledger; each payout is a ``ReferralReward`` round with its own
idempotency key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from advocates.models import Advocate
from core.i18n import lazy_text, number
from referrals.models import Referral, ReferralReward, RewardRule, Stage
from rewards.services.ledger import InsufficientPoints, points_award, points_reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def money(amount: Decimal | None) -> str:
    """12500 -> "12,500"; 12500.5 -> "12,500.50" (grouped the reader's way); None ->
    "none"."""
    if amount is None:
        return gettext("none")
    return number(amount, 0 if amount == amount.to_integral_value() else 2)


def qualified_key(referral_id: int) -> str:
    """The qualified reward's idempotency key (the CSV import pays with it too)."""
    return f"referral:{referral_id}:qualified-reward"


# Points lines are given lazily (core.i18n.lazy_text): the ledger writes each in the
# language of the advocate who reads it.


def qualified_reason(referral: Referral) -> StrOrPromise:
    return lazy_text(gettext_lazy("Referral qualified: %(name)s"), name=referral.referred_name)


def won_reason(referral: Referral) -> StrOrPromise:
    return lazy_text(gettext_lazy("Referral won: %(name)s"), name=referral.referred_name)


def pay_qualified(referral: Referral, rule: RewardRule) -> None:
    points = rule.qualified_reward_points()
    if points <= 0 or referral.rewards.filter(kind=ReferralReward.Kind.QUALIFIED).exists():
        return
    reason = qualified_reason(referral)
    result = points_award(
        advocate_id=referral.advocate_id,
        amount=points,
        reason=reason,
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


def second_generation_key(referral_id: int, round_: int) -> str:
    base = f"referral:{referral_id}:second-gen-reward"
    return base if round_ == 1 else f"{base}:{round_}"


def _round_key(reward: ReferralReward) -> str:
    if reward.kind == ReferralReward.Kind.SECOND_GENERATION:
        return second_generation_key(reward.referral_id, reward.round)
    return won_key(reward.referral_id, reward.round)


def _latest_won(referral: Referral) -> ReferralReward | None:
    return referral.rewards.filter(kind=ReferralReward.Kind.WON).order_by("-round").first()


def won_rank(referral: Referral) -> int:
    """Which of its advocate's won referrals this one is (1 for the first), by the time
    each was won: the count tier that applies to it (RewardRule.count_tiers). Stable
    when the amount of an older won referral is corrected later."""
    won = Referral.objects.filter(advocate_id=referral.advocate_id, stage=Stage.WON)
    if referral.won_at is None:  # not expected of a won referral: count them all
        return won.count()
    return won.filter(
        Q(won_at__lt=referral.won_at) | Q(won_at=referral.won_at, id__lte=referral.pk)
    ).count()


def won_points_for(referral: Referral, rule: RewardRule) -> int:
    """The rule's won points for the deal, escalated by the advocate's count of won
    referrals when the rule has count tiers."""
    points = rule.won_points(referral.deal_amount)
    if not rule.count_tiers or points <= 0:
        return points
    return rule.escalated(points, won_rank(referral))


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
    if rule is not None and rule.count_tiers:
        # The advocate's row lock (the ledger takes it anyway, next) orders two of their
        # referrals won at once, so each counts the other in or out, never both out.
        Advocate.objects.select_for_update().filter(pk=referral.advocate_id).first()
    points = won_points_for(referral, rule) if rule is not None else 0
    if points <= 0:
        return
    reason = won_reason(referral)
    _pay_round(
        referral,
        points=points,
        round_=latest.round + 1 if latest is not None else 1,
        reason=reason,
    )


def _award(
    referral: Referral,
    *,
    advocate_id: int,
    kind: str,
    points: int,
    round_: int,
    reason: StrOrPromise,
    idempotency_key: str,
) -> None:
    """Pay ``points`` through the ledger and record them as the referral's reward."""
    result = points_award(
        advocate_id=advocate_id,
        amount=points,
        reason=reason,
        idempotency_key=idempotency_key,
        source=referral,
    )
    ReferralReward.objects.create(
        referral=referral,
        kind=kind,
        round=round_,
        points=result.entry.amount,
        ledger_entry=result.entry,
    )


def _pay_round(referral: Referral, *, points: int, round_: int, reason: StrOrPromise) -> None:
    if points <= 0:
        return
    _award(
        referral,
        advocate_id=referral.advocate_id,
        kind=ReferralReward.Kind.WON,
        points=points,
        round_=round_,
        reason=reason,
        idempotency_key=won_key(referral.pk, round_),
    )


def _reverse(reward: ReferralReward, *, reason: StrOrPromise) -> None:
    try:
        with transaction.atomic():
            result = points_reverse(
                entry_id=reward.ledger_entry_id,
                reason=reason,
                idempotency_key=f"{_round_key(reward)}:reversed",
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
        reason = lazy_text(
            gettext_lazy("Referral no longer won: %(name)s"), name=referral.referred_name
        )
        _reverse(latest, reason=reason)
    second = referral.rewards.filter(
        kind=ReferralReward.Kind.SECOND_GENERATION, status=ReferralReward.Status.PAID
    ).first()
    if second is not None:
        reason = lazy_text(
            gettext_lazy("Second-generation referral no longer won: %(name)s"),
            name=referral.referred_name,
        )
        _reverse(second, reason=reason)


def chain_origin(advocate: Advocate) -> Referral | None:
    """The won referral whose customer joined as ``advocate`` (they accepted the
    invitation sent from it), with its advocate; None if they came another way."""
    return (
        Referral.objects.select_related("advocate__user")
        .filter(invitation__accepted_by_id=advocate.user_id)
        .exclude(advocate_id=advocate.pk)
        .first()
    )


def pay_second_generation(referral: Referral, rule: RewardRule | None) -> None:
    """``referral`` was won: if its advocate was brought in by another advocate's
    referral, that advocate earns the rule's second-generation points, once per round
    (won, moved back and won again is a second round, as for the won reward). One
    generation only: the advocate who brought in the one who brought in this one
    earns nothing from it."""
    if rule is None:
        return
    points = rule.second_generation_reward_points()
    if points <= 0:
        return
    latest = (
        referral.rewards.filter(kind=ReferralReward.Kind.SECOND_GENERATION)
        .order_by("-round")
        .first()
    )
    if latest is not None and latest.status == ReferralReward.Status.PAID:
        return
    if latest is not None and latest.status == ReferralReward.Status.OWED:
        latest.status = ReferralReward.Status.PAID
        latest.updated_at = timezone.now()
        latest.save(update_fields=["status", "updated_at"])
        return
    origin = chain_origin(Advocate.objects.only("id", "user_id").get(pk=referral.advocate_id))
    if origin is None:
        return
    round_ = latest.round + 1 if latest is not None else 1
    reason = lazy_text(
        gettext_lazy(
            "Second-generation referral won: %(name)s, referred by %(origin)s, whom you brought in"
        ),
        name=referral.referred_name,
        origin=origin.referred_name,
    )
    _award(
        referral,
        advocate_id=origin.advocate_id,
        kind=ReferralReward.Kind.SECOND_GENERATION,
        points=points,
        round_=round_,
        reason=reason,
        idempotency_key=second_generation_key(referral.pk, round_),
    )


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
    points = won_points_for(referral, rule)
    if points == latest.points:
        return
    # Read when the ledger writes the line, in its reader's language.
    new = lambda: money(referral.deal_amount)  # noqa: E731
    reversed_reason = lazy_text(
        gettext_lazy("Deal amount changed from %(old)s to %(new)s: reward for %(name)s corrected"),
        old=lambda: money(old),
        new=new,
        name=referral.referred_name,
    )
    paid_reason = lazy_text(
        gettext_lazy("Referral won: %(name)s, on the corrected deal amount of %(amount)s"),
        name=referral.referred_name,
        amount=new,
    )
    _reverse(latest, reason=reversed_reason)
    _pay_round(referral, points=points, round_=latest.round + 1, reason=paid_reason)
