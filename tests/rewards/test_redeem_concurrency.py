"""Redemptions under real concurrency: threads with their own PostgreSQL connections.

SQLite has no row locks, so these run only on PostgreSQL. Every thread waits at a
barrier, then all call the service at once; the reward's row lock (taken before the
advocate's) must serialise them.
"""

from __future__ import annotations

import uuid

from advocates.models import Advocate
from rewards.models import LedgerEntry, Redemption, Reward
from rewards.services import catalog
from tests import factories
from tests.concurrency import POSTGRES_RACE, run_at_once
from tests.rewards.factories import RewardFactory, give_points

THREADS = 10

pytestmark = POSTGRES_RACE


def test_ten_advocates_race_for_the_last_three_units(assert_ledger_consistent) -> None:
    reward = RewardFactory(points_cost=100, stock=3)
    advocates = [factories.AdvocateFactory() for _ in range(THREADS)]
    for advocate in advocates:
        give_points(advocate, 150)

    outcomes = run_at_once(
        lambda i: catalog.reward_redeem(
            reward_id=reward.pk, advocate_id=advocates[i].pk, idempotency_key=uuid.uuid4().hex
        )
    )

    succeeded = [o for o in outcomes if isinstance(o, catalog.RedeemResult)]
    refused = [o for o in outcomes if isinstance(o, catalog.OutOfStock)]
    assert len(succeeded) == 3, outcomes
    assert len(refused) == THREADS - 3, outcomes
    reward.refresh_from_db()
    assert reward.stock == 0
    assert Redemption.objects.count() == 3
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).count() == 3
    winners = {result.redemption.advocate_id for result in succeeded}
    balances = dict(Advocate.objects.values_list("id", "balance"))
    for advocate in advocates:
        assert balances[advocate.pk] == (50 if advocate.pk in winners else 150)
    assert_ledger_consistent()


def test_one_advocate_double_submits_from_ten_threads(assert_ledger_consistent) -> None:
    reward = RewardFactory(points_cost=100, stock=5)
    advocate = factories.AdvocateFactory()
    give_points(advocate, 1000)
    token = uuid.uuid4().hex

    outcomes = run_at_once(
        lambda i: catalog.reward_redeem(
            reward_id=reward.pk, advocate_id=advocate.pk, idempotency_key=token
        )
    )

    assert all(isinstance(o, catalog.RedeemResult) for o in outcomes), outcomes
    assert sum(o.created for o in outcomes) == 1
    assert len({o.redemption.pk for o in outcomes}) == 1
    assert Redemption.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).count() == 1
    advocate.refresh_from_db()
    reward.refresh_from_db()
    assert advocate.balance == 900
    assert reward.stock == 4
    assert_ledger_consistent()


def test_cancelling_from_five_threads_refunds_once(assert_ledger_consistent) -> None:
    reward = RewardFactory(points_cost=100, stock=1)
    advocate = factories.AdvocateFactory()
    give_points(advocate, 100)
    redemption = catalog.reward_redeem(
        reward_id=reward.pk, advocate_id=advocate.pk, idempotency_key=uuid.uuid4().hex
    ).redemption

    outcomes = run_at_once(
        lambda i: catalog.redemption_cancel(redemption_id=redemption.pk), threads=5
    )

    assert all(isinstance(o, catalog.StepResult) for o in outcomes), outcomes
    assert sum(o.changed for o in outcomes) == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    advocate.refresh_from_db()
    reward.refresh_from_db()
    assert advocate.balance == 100
    assert reward.stock == 1
    assert_ledger_consistent()


def test_redeems_and_cancels_of_one_reward_do_not_deadlock(assert_ledger_consistent) -> None:
    """Redeems (reward, then advocate) racing cancels (reward, then advocate's refund)."""
    reward = RewardFactory(points_cost=10, stock=20)
    advocate = factories.AdvocateFactory()
    give_points(advocate, 200)
    open_ones = [
        catalog.reward_redeem(
            reward_id=reward.pk, advocate_id=advocate.pk, idempotency_key=uuid.uuid4().hex
        ).redemption
        for _ in range(5)
    ]

    def call(i: int) -> object:
        if i < 5:
            return catalog.redemption_cancel(redemption_id=open_ones[i].pk)
        return catalog.reward_redeem(
            reward_id=reward.pk, advocate_id=advocate.pk, idempotency_key=uuid.uuid4().hex
        )

    outcomes = run_at_once(call)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    reward.refresh_from_db()
    advocate.refresh_from_db()
    open_count = Redemption.objects.filter(status=Redemption.Status.REQUESTED).count()
    assert open_count == 5
    assert reward.stock == 20 - open_count
    assert advocate.balance == 200 - 10 * open_count
    assert Reward.objects.filter(stock__lt=0).count() == 0
    assert_ledger_consistent()
