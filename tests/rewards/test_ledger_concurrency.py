"""The ledger under real concurrency: threads with their own PostgreSQL connections.

SQLite serialises whole-database writes and has no row locks, so these run only on
PostgreSQL (CI sets DATABASE_URL). Every thread waits at a barrier, then all call the
service at once; the advocate's row lock must serialise them.
"""

from __future__ import annotations

from collections import Counter

import pytest

from advocates.models import Advocate
from rewards.models import LedgerEntry
from rewards.services.ledger import InsufficientPoints, points_award, points_spend
from tests import factories
from tests.concurrency import POSTGRES_RACE, run_at_once

THREADS = 10

pytestmark = POSTGRES_RACE


# 0 affordable would pass without any lock; 3 and 7 are the overspending cases.
@pytest.mark.parametrize("affordable", [3, 7, 10])
def test_simultaneous_spends_succeed_exactly_as_far_as_the_balance_goes(
    affordable: int, assert_ledger_consistent
) -> None:
    advocate = factories.AdvocateFactory()
    price = 30
    # Enough for `affordable` spends plus change that buys nothing more.
    budget = affordable * price + price // 2
    points_award(advocate_id=advocate.pk, amount=budget, reason="start", idempotency_key="start")

    outcomes = run_at_once(
        lambda i: points_spend(
            advocate_id=advocate.pk, amount=price, reason="swag", idempotency_key=f"spend:{i}"
        )
    )

    kinds = Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == Counter(
        {"LedgerResult": affordable, "InsufficientPoints": THREADS - affordable}
    )
    refused = [o for o in outcomes if isinstance(o, InsufficientPoints)]
    assert all("Not enough points" in str(o) for o in refused)
    advocate.refresh_from_db()
    assert advocate.balance == budget - affordable * price >= 0
    assert LedgerEntry.objects.filter(advocate=advocate, kind="spend").count() == affordable
    assert_ledger_consistent()


def test_simultaneous_awards_with_one_key_create_one_entry(assert_ledger_consistent) -> None:
    advocate = factories.AdvocateFactory()

    outcomes = run_at_once(
        lambda i: points_award(
            advocate_id=advocate.pk,
            amount=25,
            reason="Challenge approved",
            idempotency_key="challenge-submission:42:approved",
        )
    )

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert sum(o.created for o in outcomes) == 1
    assert len({o.entry.pk for o in outcomes}) == 1
    assert LedgerEntry.objects.filter(advocate=advocate).count() == 1
    assert Advocate.objects.values_list("balance", "lifetime_points").get(pk=advocate.pk) == (
        25,
        25,
    )
    assert_ledger_consistent()


def test_one_key_raced_across_two_advocates_gives_one_entry_and_a_clear_refusal(
    assert_ledger_consistent,
) -> None:
    # The row lock is per advocate, so here the unique key constraint decides the race.
    advocates = [factories.AdvocateFactory(), factories.AdvocateFactory()]

    outcomes = run_at_once(
        lambda i: points_award(
            advocate_id=advocates[i % 2].pk, amount=10, reason="x", idempotency_key="one:key"
        )
    )

    assert LedgerEntry.objects.count() == 1
    winner = LedgerEntry.objects.get().advocate_id
    for i, outcome in enumerate(outcomes):
        if advocates[i % 2].pk == winner:
            assert not isinstance(outcome, Exception), outcome
        else:
            assert "already used" in str(outcome), outcome
    assert_ledger_consistent()


def test_simultaneous_awards_and_spends_keep_balance_equal_to_entries(
    assert_ledger_consistent,
) -> None:
    advocate = factories.AdvocateFactory()
    points_award(advocate_id=advocate.pk, amount=50, reason="start", idempotency_key="start")

    def mixed(i: int) -> object:
        if i % 2:
            return points_award(
                advocate_id=advocate.pk, amount=20, reason="x", idempotency_key=f"a:{i}"
            )
        return points_spend(
            advocate_id=advocate.pk, amount=40, reason="x", idempotency_key=f"s:{i}"
        )

    outcomes = run_at_once(mixed)

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientPoints)
    ]
    assert not unexpected, unexpected
    advocate.refresh_from_db()
    assert advocate.balance >= 0
    assert_ledger_consistent()
