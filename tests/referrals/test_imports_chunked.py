"""The imports set-wise, a chunk at a time: same results as row by row, flat queries."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocates.models import Advocate, Company
from core.outbox import ACTIVITY_MANY_TASK
from referrals.models import Referral, ReferralReward, ReferralStageChange, RejectionReason, Stage
from referrals.services import referral_advance
from referrals.services.imports import advocates_import, common, referrals_import
from rewards.models import LedgerEntry
from tests import factories
from tests.referrals.factories import RewardRuleFactory
from tests.referrals.test_imports import ADV_HEADER, REF_HEADER

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Referral.objects.count(),
        ReferralStageChange.objects.count(),
        LedgerEntry.objects.count(),
        ReferralReward.objects.count(),
    )


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple]]:
    """Every task the code under test enqueues after commit, by name."""
    calls: list[tuple[str, tuple]] = []

    def record(task, *args, **kwargs) -> None:
        calls.append((task if isinstance(task, str) else task.name, args))

    monkeypatch.setattr("core.outbox.enqueue_after_commit", record)
    monkeypatch.setattr("referrals.services.enqueue_after_commit", record)
    return calls


def test_chunks_keep_every_rule_and_a_second_import_changes_nothing(
    owned_advocate, other_advocate, rep, settings, enqueued, assert_ledger_consistent
):
    RewardRuleFactory(fixed_points=500, qualified_points=50)
    ada, otto = owned_advocate.user.email, other_advocate.user.email
    text = REF_HEADER + (
        # chunk 1: won with an amount (both rewards), then a self-referral
        f"SF-1,{ada},Pat,pat@buyer.example,Buyer,lead_form,2026-01-05,won,2026-02-01,1000\n"
        f"SF-2,{ada},Me,{ada},,lead_form,2026-01-05,,,\n"
        # chunk 2: another advocate, same company as SF-1 but SF-1 is no longer open;
        # then Pat again: a duplicate of SF-1, a chunk earlier
        f"SF-3,{otto},Col,col@buyer.example,Buyer,email,2026-01-06,,,\n"
        f"SF-4,{otto},Pat,pat@buyer.example,Buyer,email,2026-01-07,qualified,2026-01-08,\n"
        # chunk 3: an open referral, then its company again in the same chunk
        f"SF-5,{ada},Quin,quin@other.example,Other,verbal,2026-01-08,qualified,2026-01-09,\n"
        f"SF-6,{otto},Rae,rae@other.example,Other,verbal,2026-01-09,,,\n"
        # chunk 4: a colleague at the advocate's own company
        f"SF-7,{ada},Col,col@{owned_advocate.company.domain},,lead_form,2026-01-10,,,\n"
    )

    report = referrals_import(source=text, chunk_rows=2)

    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    assert [line for line, _ in report.errors] == [3, 8]
    assert report.errors[0][1] == "You cannot refer yourself."
    assert "at your own company" in report.errors[1][1]
    refs = {r.external_id: r for r in Referral.objects.all()}
    assert [line for line, _ in report.flagged] == [5, 7]
    assert report.flagged[0][1] == f"SF-4: duplicate of referral #{refs['SF-1'].pk}."
    assert {k: (r.stage, r.duplicate_of_id) for k, r in refs.items()} == {
        "SF-1": (Stage.WON, None),
        "SF-3": (Stage.SUBMITTED, None),
        "SF-4": (Stage.REJECTED, refs["SF-1"].pk),
        "SF-5": (Stage.QUALIFIED, None),
        "SF-6": (Stage.REJECTED, refs["SF-5"].pk),
    }
    assert refs["SF-4"].rejection_reason == RejectionReason.DUPLICATE
    # Routed to each advocate's owner rep (Otto has none: the unassigned queue).
    assert (refs["SF-1"].owner_rep, refs["SF-3"].owner_rep) == (rep, None)
    assert refs["SF-1"].won_at.date().isoformat() == "2026-02-01"
    assert list(refs["SF-1"].changes.values_list("from_stage", "to_stage", "source")) == [
        ("", Stage.SUBMITTED, "import"),
        (Stage.SUBMITTED, Stage.WON, "import"),
    ]
    # Won and qualified rewards paid once, with the keys the CRM path uses.
    sf1, sf5 = refs["SF-1"].pk, refs["SF-5"].pk
    assert set(LedgerEntry.objects.values_list("idempotency_key", "amount")) == {
        (f"referral:{sf1}:won-reward", 500),
        (f"referral:{sf1}:qualified-reward", 50),
        (f"referral:{sf5}:qualified-reward", 50),
    }
    assert ReferralReward.objects.count() == 3
    owned_advocate.refresh_from_db()
    assert owned_advocate.balance == 600
    # Nobody is emailed; progress once per advocate.
    assert enqueued == [(ACTIVITY_MANY_TASK, ([owned_advocate.pk, other_advocate.pk],))]

    before = _counts()
    enqueued.clear()
    again = referrals_import(source=text, chunk_rows=2)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert [line for line, _ in again.errors] == [3, 8]
    assert _counts() == before
    assert enqueued == []
    # A later CRM event for the won referral pays nothing more either.
    referral_advance(referral_id=sf1, stage=Stage.WON, amount=Decimal(2000), source="crm")
    assert _counts() == before
    assert_ledger_consistent()


def test_a_row_moving_an_existing_referral_goes_through_advance_once(
    owned_advocate, enqueued, assert_ledger_consistent
):
    RewardRuleFactory(fixed_points=300)
    email = owned_advocate.user.email
    row = "SF-1,{e},Pat,pat@buyer.example,,lead_form,2026-01-05,{stage},{at},{amount}\n"
    referrals_import(source=REF_HEADER + row.format(e=email, stage="", at="", amount=""))
    enqueued.clear()

    text = REF_HEADER + row.format(e=email, stage="won", at="2026-02-01", amount="9000")
    report = referrals_import(source=text, chunk_rows=1)
    again = referrals_import(source=text, chunk_rows=1)

    assert (report.updated, again.unchanged, again.updated) == (1, 1, 0)
    referral = Referral.objects.get()
    assert (referral.stage, referral.deal_amount) == (Stage.WON, Decimal("9000.00"))
    assert LedgerEntry.objects.get().idempotency_key == f"referral:{referral.pk}:won-reward"
    assert enqueued == [(ACTIVITY_MANY_TASK, ([owned_advocate.pk],))]
    assert_ledger_consistent()


def _referral_file(advocate: Advocate, rows: int) -> str:
    stages = ["submitted", "qualified", "opportunity", "won", "lost"]
    lines = [
        f"Q-{n},{advocate.user.email},Lead {n},lead{n}@co{n}.example,Co {n},lead_form,"
        f"2026-01-05,{stages[n % 5]},2026-01-20,{1000 + n if n % 5 == 3 else ''}\n"
        for n in range(rows)
    ]
    return REF_HEADER + "".join(lines)


def test_queries_do_not_grow_with_the_rows(owned_advocate):
    RewardRuleFactory(fixed_points=100, qualified_points=10)
    other = factories.AdvocateFactory()

    def queries(advocate: Advocate, rows: int) -> tuple[int, int]:
        text = _referral_file(advocate, rows).replace("Q-", f"Q{advocate.pk}-")
        with CaptureQueriesContext(connection) as first:
            assert referrals_import(source=text).created == rows
        with CaptureQueriesContext(connection) as second:
            assert referrals_import(source=text).unchanged == rows
        return len(first), len(second)

    small, large = queries(owned_advocate, 10), queries(other, 100)
    # SQLite splits a bulk insert every 999 parameters (49 referrals): a few more queries.
    assert large[0] - small[0] <= 5, (small, large)
    assert large[1] == small[1], (small, large)


def test_advocate_queries_do_not_grow_with_the_rows(rep):
    def queries(prefix: str, rows: int) -> int:
        text = ADV_HEADER + "".join(
            f"{prefix}{n}@cust.example,A,B,Cust {n % 3},T,I,2025-06-01,rep@example.com\n"
            for n in range(rows)
        )
        with CaptureQueriesContext(connection) as captured:
            assert advocates_import(source=text).created == rows
        return len(captured)

    small, large = queries("s", 10), queries("l", 100)
    assert large - small <= 3, (small, large)


def test_advocates_in_chunks(rep):
    text = ADV_HEADER + (
        "ann@cust.example,Ann,Ames,Cust Inc,CTO,Software,2025-06-01,rep@example.com\n"
        "bo@cust.example,Bo,B,cust inc,,,,\n"
        "ann@cust.example,Ann,Again,,,,,\n"  # repeated, a chunk later
        "cy@cust.example,Cy,C,Other,,,,nobody@example.com\n"
        "di@cust.example,Di,D,CUST INC,,,,\n"
    )
    report = advocates_import(source=text, chunk_rows=2)

    assert report.created == 3
    assert report.errors == [
        (4, "ann@cust.example appears more than once in the file."),
        (5, "owner_rep_email nobody@example.com is not a sales rep here."),
    ]
    # One company for the three spellings, made by the first row.
    assert list(Company.objects.values_list("name", flat=True)) == ["Cust Inc"]
    ann = Advocate.objects.get(user__email="ann@cust.example")
    assert (ann.owner_rep, ann.status, ann.user.has_usable_password()) == (rep, "active", False)
    assert ann.user.emailaddress_set.get().verified
    again = advocates_import(source=text, chunk_rows=2)
    assert (again.created, again.unchanged) == (0, 3)


def test_progress_is_reported_after_each_chunk(owned_advocate):
    text = _referral_file(owned_advocate, 5)
    calls: list[tuple[int, int]] = []
    referrals_import(
        source=text,
        chunk_rows=2,
        progress=lambda report, rows: calls.append((rows, report.created)),
    )
    assert calls == [(2, 2), (4, 4), (5, 5)]


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [False, True])
def test_the_command_prints_progress_to_stderr(tmp_path, owned_advocate, monkeypatch, terminal):
    monkeypatch.setattr(common, "CHUNK_ROWS", 2)
    path = tmp_path / "r.csv"
    path.write_text(_referral_file(owned_advocate, 4) + "bad,row\n", encoding="utf-8")
    out, err = StringIO(), _Terminal() if terminal else StringIO()

    call_command("import_referrals", str(path), stdout=out, stderr=err)

    progress = re.findall(r"([\d,]+) rows, [\d,]+ rows/s, (\d+) bad", err.getvalue())
    if terminal:  # one line rewritten after every chunk, then the summary below it
        assert progress == [("2", "0"), ("4", "0"), ("5", "1")]
        assert err.getvalue().startswith("\r2 rows, ")
        assert "\r5 rows" in err.getvalue().split("\n")[0]
    else:  # plain lines, at most one every 2 seconds: the first chunk's here
        assert progress[0] == ("2", "0")
        assert "\r" not in err.getvalue()
    assert json.loads(out.getvalue().splitlines()[-1])["created"] == 4
