"""The points ledger's behaviour (rewards.services): awards, spends, reversals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

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

pytestmark = pytest.mark.django_db


def _snapshot(advocate_id: int) -> tuple:
    """Everything the ledger keeps for one advocate, to compare before and after."""
    adv = Advocate.objects.get(pk=advocate_id)
    entries = list(
        LedgerEntry.objects.filter(advocate_id=advocate_id)
        .order_by("id")
        .values_list("id", "amount", "kind", "idempotency_key")
    )
    periods = sorted(
        PeriodPoints.objects.filter(advocate_id=advocate_id).values_list(
            "period", "starts_on", "points"
        )
    )
    return adv.balance, adv.lifetime_points, entries, periods


def _points(advocate_id: int) -> tuple[int, int]:
    adv = Advocate.objects.get(pk=advocate_id)
    return adv.balance, adv.lifetime_points


def _period_points(advocate_id: int) -> dict[tuple[str, object], int]:
    return {
        (p.period, p.starts_on): p.points
        for p in PeriodPoints.objects.filter(advocate_id=advocate_id)
    }


def _award(advocate: Advocate, amount: int, key: str) -> LedgerEntry:
    return points_award(
        advocate_id=advocate.pk, amount=amount, reason=f"award {key}", idempotency_key=key
    ).entry


# --- Awards ------------------------------------------------------------------------------


def test_award_raises_balance_lifetime_and_this_periods_points(
    advocate, assert_ledger_consistent
) -> None:
    result = points_award(
        advocate_id=advocate.pk, amount=120, reason="Wrote a review", idempotency_key="a:1"
    )

    assert result.created
    assert result.entry.kind == LedgerEntry.Kind.AWARD
    assert result.entry.amount == 120
    assert result.entry.reason == "Wrote a review"
    assert _points(advocate.pk) == (120, 120)
    starts = period_starts(result.entry.created_at)
    assert _period_points(advocate.pk) == {
        (PeriodPoints.Period.WEEK, starts[PeriodPoints.Period.WEEK]): 120,
        (PeriodPoints.Period.MONTH, starts[PeriodPoints.Period.MONTH]): 120,
    }
    assert_ledger_consistent()


def test_award_records_its_source(advocate) -> None:
    invitation = factories.InvitationFactory()
    entry = points_award(
        advocate_id=advocate.pk,
        amount=5,
        reason="Joined",
        idempotency_key="a:src",
        source=invitation,
    ).entry
    assert (entry.source_type, entry.source_id) == ("advocates.invitation", str(invitation.pk))


def test_same_key_returns_the_same_entry_and_changes_nothing(
    advocate, assert_ledger_consistent
) -> None:
    first = points_award(advocate_id=advocate.pk, amount=50, reason="x", idempotency_key="a:dup")
    before = _snapshot(advocate.pk)

    again = points_award(advocate_id=advocate.pk, amount=50, reason="x", idempotency_key="a:dup")

    assert not again.created
    assert again.entry.pk == first.entry.pk
    assert _snapshot(advocate.pk) == before
    assert_ledger_consistent()


def test_replay_with_a_changed_amount_keeps_the_first_write(advocate) -> None:
    # A rule edited between two retries of one event must not award twice.
    first = points_award(advocate_id=advocate.pk, amount=50, reason="x", idempotency_key="a:r")
    again = points_award(advocate_id=advocate.pk, amount=80, reason="x", idempotency_key="a:r")
    assert again.entry.pk == first.entry.pk
    assert _points(advocate.pk) == (50, 50)


def test_a_key_reused_for_another_advocate_is_refused(advocate, other_advocate) -> None:
    _award(advocate, 50, "shared:key")
    before = _snapshot(other_advocate.pk)

    with pytest.raises(LedgerError, match="already used"):
        points_award(
            advocate_id=other_advocate.pk, amount=50, reason="x", idempotency_key="shared:key"
        )

    assert _snapshot(other_advocate.pk) == before


def test_a_key_reused_for_another_kind_of_change_is_refused(advocate) -> None:
    _award(advocate, 50, "k:1")
    before = _snapshot(advocate.pk)
    with pytest.raises(LedgerError, match="already used"):
        points_spend(advocate_id=advocate.pk, amount=10, reason="x", idempotency_key="k:1")
    assert _snapshot(advocate.pk) == before


@pytest.mark.parametrize("amount", [0, -5])
def test_award_of_zero_or_negative_points_is_refused(advocate, amount: int) -> None:
    with pytest.raises(LedgerError):
        points_award(advocate_id=advocate.pk, amount=amount, reason="x", idempotency_key="z")
    assert not LedgerEntry.objects.exists()


def test_an_empty_idempotency_key_is_refused(advocate) -> None:
    with pytest.raises(LedgerError, match="idempotency key"):
        points_award(advocate_id=advocate.pk, amount=5, reason="x", idempotency_key="")
    assert not LedgerEntry.objects.exists()


# --- Spends ------------------------------------------------------------------------------


def test_spend_lowers_balance_but_not_lifetime_or_period_points(
    advocate, assert_ledger_consistent
) -> None:
    _award(advocate, 100, "a:1")
    periods = _period_points(advocate.pk)

    result = points_spend(
        advocate_id=advocate.pk, amount=30, reason="T-shirt", idempotency_key="s:1"
    )

    assert result.created
    assert result.entry.kind == LedgerEntry.Kind.SPEND
    assert result.entry.amount == -30
    assert _points(advocate.pk) == (70, 100)
    assert _period_points(advocate.pk) == periods
    assert_ledger_consistent()


def test_spend_of_the_whole_balance_is_allowed(advocate) -> None:
    _award(advocate, 40, "a:1")
    points_spend(advocate_id=advocate.pk, amount=40, reason="x", idempotency_key="s:all")
    assert _points(advocate.pk) == (0, 40)


def test_spend_beyond_the_balance_is_refused_and_changes_nothing(
    advocate, assert_ledger_consistent
) -> None:
    _award(advocate, 40, "a:1")
    before = _snapshot(advocate.pk)

    with pytest.raises(InsufficientPoints, match="needs 41 and the balance is 40"):
        points_spend(advocate_id=advocate.pk, amount=41, reason="x", idempotency_key="s:big")

    assert _snapshot(advocate.pk) == before
    assert not LedgerEntry.objects.filter(idempotency_key="s:big").exists()
    assert_ledger_consistent()


def test_a_refused_spend_can_succeed_later_with_the_same_key(advocate) -> None:
    # The refusal wrote nothing, so the key is still free once the points are there.
    with pytest.raises(InsufficientPoints):
        points_spend(advocate_id=advocate.pk, amount=10, reason="x", idempotency_key="s:later")
    _award(advocate, 10, "a:1")
    assert points_spend(
        advocate_id=advocate.pk, amount=10, reason="x", idempotency_key="s:later"
    ).created
    assert _points(advocate.pk) == (0, 10)


def test_spend_replayed_with_its_key_spends_once(advocate) -> None:
    _award(advocate, 100, "a:1")
    for _ in range(3):
        points_spend(advocate_id=advocate.pk, amount=60, reason="x", idempotency_key="s:once")
    assert _points(advocate.pk) == (40, 100)
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).count() == 1


@pytest.mark.parametrize("amount", [0, -5])
def test_spend_of_zero_or_negative_points_is_refused(advocate, amount: int) -> None:
    _award(advocate, 10, "a:1")
    before = _snapshot(advocate.pk)
    with pytest.raises(LedgerError):
        points_spend(advocate_id=advocate.pk, amount=amount, reason="x", idempotency_key="s")
    assert _snapshot(advocate.pk) == before


# --- Reversals ---------------------------------------------------------------------------


def test_reversing_a_spend_is_a_refund(advocate, assert_ledger_consistent) -> None:
    _award(advocate, 100, "a:1")
    spend = points_spend(advocate_id=advocate.pk, amount=70, reason="x", idempotency_key="s:1")
    periods = _period_points(advocate.pk)

    refund = points_reverse(entry_id=spend.entry.pk, reason="Redemption cancelled")

    assert refund.created
    assert refund.entry.kind == LedgerEntry.Kind.REFUND
    assert refund.entry.amount == 70
    assert refund.entry.reverses_id == spend.entry.pk
    assert refund.entry.idempotency_key == "reverse:s:1"
    assert _points(advocate.pk) == (100, 100)  # lifetime unchanged by a refund
    assert _period_points(advocate.pk) == periods
    assert_ledger_consistent()


def test_reversing_an_award_takes_it_out_of_lifetime_and_period_points(
    advocate, assert_ledger_consistent
) -> None:
    _award(advocate, 100, "a:keep")
    award = _award(advocate, 30, "a:undo")

    reversal = points_reverse(entry_id=award.pk, reason="Submission revoked")

    assert reversal.entry.kind == LedgerEntry.Kind.REVERSAL
    assert reversal.entry.amount == -30
    assert _points(advocate.pk) == (100, 100)
    assert set(_period_points(advocate.pk).values()) == {100}
    assert_ledger_consistent()


def _move_to_past(entry: LedgerEntry, *, days: int) -> None:
    """Pretend ``entry`` was written ``days`` ago, with the period rows that go with it."""
    old, new = entry.created_at, entry.created_at - timedelta(days=days)
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=new)
    for period, starts_on in period_starts(old).items():
        PeriodPoints.objects.filter(
            advocate_id=entry.advocate_id, period=period, starts_on=starts_on
        ).update(starts_on=period_starts(new)[period])


def test_reversing_an_old_award_debits_the_period_that_earned_it(
    advocate, assert_ledger_consistent
) -> None:
    award = _award(advocate, 30, "a:old")
    _move_to_past(award, days=45)
    old = period_starts(timezone.now() - timedelta(days=45))
    _award(advocate, 50, "a:now")
    now = period_starts(timezone.now())

    points_reverse(entry_id=award.pk, reason="Fraud")

    assert _period_points(advocate.pk) == {
        (PeriodPoints.Period.WEEK, old[PeriodPoints.Period.WEEK]): 0,
        (PeriodPoints.Period.MONTH, old[PeriodPoints.Period.MONTH]): 0,
        (PeriodPoints.Period.WEEK, now[PeriodPoints.Period.WEEK]): 50,
        (PeriodPoints.Period.MONTH, now[PeriodPoints.Period.MONTH]): 50,
    }
    assert _points(advocate.pk) == (50, 50)
    assert_ledger_consistent()


def test_reversing_an_award_already_spent_is_refused_and_changes_nothing(advocate) -> None:
    award = _award(advocate, 100, "a:1")
    points_spend(advocate_id=advocate.pk, amount=80, reason="x", idempotency_key="s:1")
    before = _snapshot(advocate.pk)

    with pytest.raises(InsufficientPoints):
        points_reverse(entry_id=award.pk, reason="Revoked")

    assert _snapshot(advocate.pk) == before


def test_reversal_replayed_with_its_key_reverses_once(advocate) -> None:
    award = _award(advocate, 100, "a:1")
    first = points_reverse(entry_id=award.pk, reason="x", idempotency_key="rev:1")
    again = points_reverse(entry_id=award.pk, reason="x", idempotency_key="rev:1")
    again_default = points_reverse(entry_id=_award(advocate, 5, "a:2").pk, reason="x")
    assert not again.created
    assert again.entry.pk == first.entry.pk
    assert again_default.created
    assert _points(advocate.pk) == (0, 0)


def test_an_entry_reversed_once_cannot_be_reversed_under_another_key(advocate) -> None:
    award = _award(advocate, 100, "a:1")
    points_reverse(entry_id=award.pk, reason="x", idempotency_key="rev:1")
    before = _snapshot(advocate.pk)

    with pytest.raises(LedgerError, match="already been reversed"):
        points_reverse(entry_id=award.pk, reason="x", idempotency_key="rev:2")

    assert _snapshot(advocate.pk) == before


@pytest.mark.parametrize("kind", ["refund", "reversal"])
def test_a_reversal_itself_cannot_be_reversed(advocate, kind: str) -> None:
    target = _award(advocate, 100, "a:1")
    if kind == "refund":
        target = points_spend(
            advocate_id=advocate.pk, amount=10, reason="x", idempotency_key="s:1"
        ).entry
    reversal = points_reverse(entry_id=target.pk, reason="x").entry
    assert reversal.kind == kind
    before = _snapshot(advocate.pk)

    with pytest.raises(LedgerError, match="cannot itself be reversed"):
        points_reverse(entry_id=reversal.pk, reason="x")

    assert _snapshot(advocate.pk) == before


# --- The database's own guards ------------------------------------------------------------


def test_database_refuses_a_negative_balance_even_bypassing_the_service(advocate) -> None:
    _award(advocate, 10, "a:1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Advocate.objects.filter(pk=advocate.pk).update(balance=-1)
    assert _points(advocate.pk) == (10, 10)


def test_database_refuses_a_second_entry_with_one_key(advocate) -> None:
    entry = _award(advocate, 10, "a:1")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            advocate=advocate, amount=10, kind="award", reason="x", idempotency_key="a:1"
        )
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == [entry.pk]


def test_database_refuses_a_zero_entry(advocate) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            advocate=advocate, amount=0, kind="award", reason="x", idempotency_key="a:0"
        )


def test_service_inside_a_callers_transaction_rolls_back_with_it(advocate) -> None:
    # Services nest: a caller's failure after an award undoes the award too.
    _award(advocate, 10, "a:1")
    before = _snapshot(advocate.pk)

    def caller() -> None:
        with transaction.atomic():
            _award(advocate, 25, "a:2")
            raise RuntimeError("the caller failed afterwards")

    with pytest.raises(RuntimeError):
        caller()
    assert _snapshot(advocate.pk) == before
