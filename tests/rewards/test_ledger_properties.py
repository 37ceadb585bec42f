"""Property test: any sequence of awards, spends and reversals keeps the ledger whole."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from advocates.models import Advocate
from rewards.models import LedgerEntry, PeriodPoints
from rewards.services.ledger import (
    InsufficientPoints,
    LedgerError,
    period_starts,
    points_award,
    points_reverse,
    points_spend,
)
from tests import factories
from tests.conftest import ledger_violations

pytestmark = pytest.mark.django_db

# ("award", amount, key) | ("spend", amount, key) | ("reverse", index of an earlier entry)
# Keys come from a small pool so that replays happen often.
operation = st.one_of(
    st.tuples(st.just("award"), st.integers(1, 200), st.integers(0, 12)),
    st.tuples(st.just("spend"), st.integers(1, 300), st.integers(0, 12)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
)


def _expected_periods(advocate_id: int) -> dict[tuple[str, object], int]:
    """Week and month points recomputed from the entries (awards minus their reversals)."""
    expected: dict[tuple[str, object], int] = defaultdict(int)
    for entry in LedgerEntry.objects.filter(advocate_id=advocate_id).select_related("reverses"):
        if entry.kind == LedgerEntry.Kind.AWARD:
            earned_at = entry.created_at
        elif entry.kind == LedgerEntry.Kind.REVERSAL:
            earned_at = entry.reverses.created_at
        else:
            continue
        for period, starts_on in period_starts(earned_at).items():
            expected[(period, starts_on)] += entry.amount
    return dict(expected)


@settings(max_examples=50, deadline=None, database=None)
@given(operations=st.lists(operation, max_size=15))
def test_random_operations_keep_balance_lifetime_and_periods_true(operations: list) -> None:
    # Each example rolls back, so examples do not see each other's rows.
    with transaction.atomic():
        advocate = factories.AdvocateFactory()
        model_balance = 0
        written: list[LedgerEntry] = []
        for op in operations:
            try:
                if op[0] == "award":
                    result = points_award(
                        advocate_id=advocate.pk,
                        amount=op[1],
                        reason="r",
                        idempotency_key=f"award:{op[2]}",
                    )
                elif op[0] == "spend":
                    result = points_spend(
                        advocate_id=advocate.pk,
                        amount=op[1],
                        reason="r",
                        idempotency_key=f"spend:{op[2]}",
                    )
                else:
                    if not written:
                        continue
                    result = points_reverse(entry_id=written[op[1] % len(written)].pk, reason="r")
            except InsufficientPoints:
                # Refused: nothing moved (checked against the model below).
                result = None
            except LedgerError:
                continue  # reversing a reversal, or a key reused for another amount sign
            if result is not None and result.created:
                written.append(result.entry)
                model_balance += result.entry.amount
            balance = Advocate.objects.values_list("balance", flat=True).get(pk=advocate.pk)
            assert balance == model_balance >= 0

        assert not ledger_violations()

        periods = {
            (p.period, p.starts_on): p.points
            for p in PeriodPoints.objects.filter(advocate=advocate)
        }
        assert {k: v for k, v in periods.items() if v} == {
            k: v for k, v in _expected_periods(advocate.pk).items() if v
        }
        transaction.set_rollback(True)
