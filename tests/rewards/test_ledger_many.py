"""points_award_many: many awards in one go, with points_award's contract."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocates.models import Advocate
from rewards.models import LedgerEntry, PeriodPoints
from rewards.services.ledger import (
    Award,
    LedgerError,
    period_starts,
    points_award,
    points_award_many,
)
from tests import factories

pytestmark = pytest.mark.django_db


def _points(advocate_id: int) -> tuple[int, int]:
    advocate = Advocate.objects.get(pk=advocate_id)
    return advocate.balance, advocate.lifetime_points


def test_many_awards_move_each_balance_lifetime_and_period_once(
    advocate, other_advocate, assert_ledger_consistent
) -> None:
    # The advocate already has this week's and month's period rows; the other has none.
    points_award(advocate_id=advocate.pk, amount=5, reason="earlier", idempotency_key="e:1")

    results = points_award_many(
        awards=[
            Award(advocate.pk, 100, "won 1", "w:1"),
            Award(other_advocate.pk, 30, "won 2", "w:2"),
            Award(advocate.pk, 20, "qualified 1", "q:1"),
        ]
    )

    assert [(r.created, r.entry.amount, r.entry.reason) for r in results] == [
        (True, 100, "won 1"),
        (True, 30, "won 2"),
        (True, 20, "qualified 1"),
    ]
    assert _points(advocate.pk) == (125, 125)
    assert _points(other_advocate.pk) == (30, 30)
    starts = period_starts(results[0].entry.created_at)
    assert {
        (p.advocate_id, p.period, p.starts_on): p.points for p in PeriodPoints.objects.all()
    } == {
        (advocate.pk, PeriodPoints.Period.WEEK, starts[PeriodPoints.Period.WEEK]): 125,
        (advocate.pk, PeriodPoints.Period.MONTH, starts[PeriodPoints.Period.MONTH]): 125,
        (other_advocate.pk, PeriodPoints.Period.WEEK, starts[PeriodPoints.Period.WEEK]): 30,
        (other_advocate.pk, PeriodPoints.Period.MONTH, starts[PeriodPoints.Period.MONTH]): 30,
    }
    assert_ledger_consistent()


def test_keys_already_in_the_ledger_pay_nothing_again(advocate, assert_ledger_consistent) -> None:
    first = points_award(advocate_id=advocate.pk, amount=50, reason="won", idempotency_key="w:1")

    results = points_award_many(
        awards=[Award(advocate.pk, 50, "won", "w:1"), Award(advocate.pk, 7, "new", "n:1")]
    )
    again = points_award_many(awards=[Award(advocate.pk, 7, "new", "n:1")])

    assert (results[0].created, results[0].entry.pk) == (False, first.entry.pk)
    assert results[1].created
    assert (again[0].created, again[0].entry.pk) == (False, results[1].entry.pk)
    assert LedgerEntry.objects.count() == 2
    assert _points(advocate.pk) == (57, 57)
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("awards", "message"),
    [
        ([Award(0, 0, "zero", "z:1")], "positive"),
        ([Award(0, 5, "no key", "")], "idempotency key"),
        ([Award(0, 5, "a", "k:1"), Award(0, 6, "b", "k:1")], "its own idempotency key"),
    ],
)
def test_bad_batches_are_refused_whole(advocate, awards: list[Award], message: str) -> None:
    awards = [Award(advocate.pk, a.amount, a.reason, a.idempotency_key) for a in awards]
    with pytest.raises(LedgerError, match=message):
        points_award_many(awards=[Award(advocate.pk, 9, "fine", "fine:1"), *awards])
    assert LedgerEntry.objects.count() == 0
    assert _points(advocate.pk) == (0, 0)


def test_a_key_reused_for_another_advocate_is_refused(advocate, other_advocate) -> None:
    points_award(advocate_id=advocate.pk, amount=5, reason="x", idempotency_key="k:1")
    with pytest.raises(LedgerError, match="already used"):
        points_award_many(awards=[Award(other_advocate.pk, 5, "x", "k:1")])
    assert _points(other_advocate.pk) == (0, 0)


def test_queries_do_not_grow_with_the_awards() -> None:
    def queries(count: int) -> int:
        advocates = factories.AdvocateFactory.create_batch(count)
        awards = [Award(a.pk, 10, "won", f"w:{count}:{a.pk}") for a in advocates]
        with CaptureQueriesContext(connection) as captured:
            points_award_many(awards=awards)
        return len(captured)

    queries(1)  # the first change reads the webhook endpoints once (core.events caches them)
    assert queries(100) == queries(10)


def test_an_award_above_the_programs_maximum_refuses_the_batch(advocate) -> None:
    from core.models import ProgramSettings
    from rewards.services.ledger import AwardTooLarge

    limit = ProgramSettings.load().max_points_per_event
    with pytest.raises(AwardTooLarge, match=f"An award of {limit + 1:,} points is above"):
        points_award_many(
            awards=[Award(advocate.pk, 5, "fine", "f:1"), Award(advocate.pk, limit + 1, "x", "x:1")]
        )
    assert LedgerEntry.objects.count() == 0
    assert _points(advocate.pk) == (0, 0)
