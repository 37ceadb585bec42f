"""reward_redeem: success, every refusal (changing nothing), limits per period, tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from advocates.models import Advocate
from rewards.models import LedgerEntry, Redemption, Reward
from rewards.services import catalog
from rewards.services.ledger import InsufficientPoints
from tests.rewards.factories import RewardFactory, give_points


def snapshot(advocate: Advocate, reward: Reward) -> dict:
    advocate.refresh_from_db()
    reward.refresh_from_db()
    return {
        "balance": advocate.balance,
        "lifetime": advocate.lifetime_points,
        "stock": reward.stock,
        "ledger": list(LedgerEntry.objects.order_by("id").values_list("id", "amount")),
        "redemptions": Redemption.objects.count(),
    }


def redeem(advocate, reward, key: str | None = None, **kwargs) -> catalog.RedeemResult:
    return catalog.reward_redeem(
        reward_id=reward.pk,
        advocate_id=advocate.pk,
        idempotency_key=key or uuid.uuid4().hex,
        **kwargs,
    )


def test_redeem_spends_points_takes_a_unit_and_records_the_redemption(
    advocate, django_capture_on_commit_callbacks
) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=200, stock=3)
    with django_capture_on_commit_callbacks(execute=True):
        result = redeem(advocate, reward)
    advocate.refresh_from_db()
    reward.refresh_from_db()
    redemption = result.redemption
    assert result.created
    assert advocate.balance == 300
    assert advocate.lifetime_points == 500  # spending does not lower lifetime points
    assert reward.stock == 2
    assert redemption.status == Redemption.Status.REQUESTED
    assert redemption.points == 200
    spend = redemption.spend_entry
    assert spend.amount == -200
    assert spend.kind == LedgerEntry.Kind.SPEND
    assert spend.idempotency_key == f"redemption:{redemption.pk}:spend"


def test_unlimited_stock_stays_unlimited(advocate) -> None:
    give_points(advocate, 100)
    reward = RewardFactory(points_cost=100, stock=None)
    redeem(advocate, reward)
    reward.refresh_from_db()
    assert reward.stock is None


@pytest.mark.parametrize(
    ("reward_fields", "balance", "error", "message"),
    [
        ({"stock": 0}, 500, catalog.OutOfStock, "out of stock"),
        ({"is_active": False}, 500, catalog.RewardUnavailable, "not available"),
        (
            {"starts_at": timezone.now() + timedelta(days=1)},
            500,
            catalog.RewardUnavailable,
            "not available",
        ),
        (
            {
                "starts_at": timezone.now() - timedelta(days=9),
                "ends_at": timezone.now() - timedelta(days=1),
            },
            500,
            catalog.RewardUnavailable,
            "not available",
        ),
        ({"points_cost": 501}, 500, catalog.NotEnoughPoints, "1 to go"),
        ({"needs_shipping": True}, 500, catalog.ShippingRequired, "address"),
    ],
    ids=["out-of-stock", "inactive", "not-started", "ended", "insufficient", "no-address"],
)
def test_each_refusal_has_a_clear_message_and_changes_nothing(
    advocate, reward_fields, balance, error, message, django_capture_on_commit_callbacks
) -> None:
    give_points(advocate, balance)
    reward = RewardFactory(**({"points_cost": 100, "stock": 5} | reward_fields))
    before = snapshot(advocate, reward)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(error) as refused:
        redeem(advocate, reward)
    assert message in str(refused.value)
    assert isinstance(refused.value, catalog.RedemptionError)
    assert snapshot(advocate, reward) == before
    assert callbacks == []  # no email queued


def test_insufficient_balance_is_also_the_ledgers_insufficient_points(advocate) -> None:
    reward = RewardFactory(points_cost=10)
    with pytest.raises(InsufficientPoints):
        redeem(advocate, reward)


def test_over_the_limit_is_refused_and_changes_nothing(advocate) -> None:
    give_points(advocate, 1000)
    reward = RewardFactory(points_cost=100, stock=10, limit_count=2, limit_period="month")
    redeem(advocate, reward)
    redeem(advocate, reward)
    before = snapshot(advocate, reward)
    with pytest.raises(catalog.OverLimit, match="2 times"):
        redeem(advocate, reward)
    assert snapshot(advocate, reward) == before


def test_the_limit_is_per_advocate(advocate, other_advocate) -> None:
    give_points(advocate, 100)
    give_points(other_advocate, 100)
    reward = RewardFactory(points_cost=100, limit_count=1, limit_period="ever")
    redeem(advocate, reward)
    assert redeem(other_advocate, reward).created


@pytest.mark.parametrize(
    ("period", "last_time", "allowed"),
    [
        # "now" is Wednesday 2026-05-13 12:00 UTC in these cases.
        ("week", datetime(2026, 5, 11, 0, 0, tzinfo=UTC), False),  # Monday this week
        ("week", datetime(2026, 5, 10, 23, 59, tzinfo=UTC), True),  # Sunday last week
        ("month", datetime(2026, 5, 1, 0, 0, tzinfo=UTC), False),
        ("month", datetime(2026, 4, 30, 23, 0, tzinfo=UTC), True),
        ("quarter", datetime(2026, 4, 1, 0, 0, tzinfo=UTC), False),
        ("quarter", datetime(2026, 3, 31, 23, 0, tzinfo=UTC), True),
        ("year", datetime(2026, 1, 1, 0, 0, tzinfo=UTC), False),
        ("year", datetime(2025, 12, 31, 23, 0, tzinfo=UTC), True),
        ("ever", datetime(2020, 1, 1, tzinfo=UTC), False),
    ],
)
def test_limit_counts_redemptions_in_the_current_calendar_period(
    advocate, period, last_time, allowed, monkeypatch
) -> None:
    give_points(advocate, 1000)
    reward = RewardFactory(points_cost=100, limit_count=1, limit_period=period)
    earlier = redeem(advocate, reward).redemption
    Redemption.objects.filter(pk=earlier.pk).update(created_at=last_time)
    now = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    if allowed:
        assert redeem(advocate, reward).created
    else:
        with pytest.raises(catalog.OverLimit):
            redeem(advocate, reward)


def test_cancelled_redemptions_do_not_count_toward_the_limit(advocate) -> None:
    give_points(advocate, 200)
    reward = RewardFactory(points_cost=100, limit_count=1, limit_period="year")
    first = redeem(advocate, reward).redemption
    catalog.redemption_cancel(redemption_id=first.pk)
    assert redeem(advocate, reward).created


def test_the_same_token_redeems_once(advocate) -> None:
    give_points(advocate, 1000)
    reward = RewardFactory(points_cost=100, stock=5)
    first = redeem(advocate, reward, key="a" * 32)
    second = redeem(advocate, reward, key="a" * 32)
    advocate.refresh_from_db()
    reward.refresh_from_db()
    assert first.created
    assert not second.created
    assert second.redemption.pk == first.redemption.pk
    assert Redemption.objects.count() == 1
    assert advocate.balance == 900
    assert reward.stock == 4


def test_another_advocates_token_is_refused(advocate, other_advocate) -> None:
    give_points(advocate, 100)
    give_points(other_advocate, 100)
    reward = RewardFactory(points_cost=100)
    redeem(advocate, reward, key="b" * 32)
    before = snapshot(other_advocate, reward)
    with pytest.raises(catalog.TokenAlreadyUsed):
        redeem(other_advocate, reward, key="b" * 32)
    assert snapshot(other_advocate, reward) == before


def test_shipping_details_are_kept_only_for_rewards_that_ship(advocate) -> None:
    give_points(advocate, 200)
    shipped = RewardFactory(points_cost=100, needs_shipping=True)
    digital = RewardFactory(points_cost=100)
    address = {"shipping_name": " Ada L ", "shipping_address": "1 Main St\nSpringfield"}
    one = redeem(advocate, shipped, **address).redemption
    two = redeem(advocate, digital, **address).redemption
    assert (one.shipping_name, one.shipping_address) == ("Ada L", "1 Main St\nSpringfield")
    assert (two.shipping_name, two.shipping_address) == ("", "")


def test_the_database_refuses_negative_stock(db) -> None:
    from django.db import IntegrityError, transaction

    reward = RewardFactory(stock=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reward.objects.filter(pk=reward.pk).update(stock=-1)
