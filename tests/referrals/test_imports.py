"""import_advocates and import_referrals: bad rows reported, nothing imported from them."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from advocates.models import Advocate, Invitation
from referrals.models import Referral, ReferralStageChange, Stage
from referrals.services import imports
from rewards.models import LedgerEntry
from tests.referrals.factories import RewardRuleFactory

pytestmark = pytest.mark.django_db

ADV_HEADER = "email,first_name,last_name,company,title,industry,joined_at,owner_rep_email\n"
REF_HEADER = (
    "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
    "created_at,stage,stage_changed_at,deal_amount\n"
)


def referral_rows(email: str, count: int) -> str:
    """``count`` good rows of new referrals by ``email``'s advocate (SF-0, SF-1, ...)."""
    return "".join(
        f"SF-{i},{email},Lead {i},lead{i}@prospect{i}.example,,lead_form,2026-01-05,,,\n"
        for i in range(count)
    )


def _run(command: str, tmp_path, text: str, *args: str) -> tuple[dict, str]:
    path = tmp_path / "file.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command(command, str(path), *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_import_advocates_creates_active_advocates_without_email(tmp_path, rep):
    text = ADV_HEADER + (
        "ann@cust.example,Ann,Ames,Cust Inc,CTO,Software,2025-06-01,rep@example.com\n"
        "bad-email,Bob,B,,,,,\n"
        "cy@cust.example,Cy,C,Cust Inc,,,,nobody@example.com\n"
        "dee@cust.example,Dee,D,,,,31/12/2025,\n"
        "ann@cust.example,Ann,Again,,,,,\n"
    )
    report, err = _run("import_advocates", tmp_path, text)
    assert report["created"] == 1
    assert [e["line"] for e in report["errors"]] == [3, 4, 5, 6]
    assert "line 4: owner_rep_email nobody@example.com is not a sales rep" in err
    advocate = Advocate.objects.get(user__email="ann@cust.example")
    assert (advocate.status, advocate.owner_rep, advocate.company.name, advocate.industry) == (
        "active",
        rep,
        "Cust Inc",
        "Software",
    )
    assert advocate.joined_at.date().isoformat() == "2025-06-01"
    assert not Advocate.objects.filter(
        user__email__in=["cy@cust.example", "dee@cust.example"]
    ).exists()
    assert mail.outbox == []
    # Running it again changes nothing.
    again, _ = _run("import_advocates", tmp_path, text)
    assert (again["created"], again["unchanged"]) == (0, 1)
    assert Advocate.objects.count() == 1


def test_import_advocates_with_invite_sends_invitations(
    tmp_path, rep, django_capture_on_commit_callbacks
):
    text = ADV_HEADER + "ann@cust.example,Ann,Ames,Cust Inc,CTO,Software,,rep@example.com\n"
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = _run("import_advocates", tmp_path, text, "--invite")
    assert report["created"] == 1
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.invited_by) == ("ann@cust.example", rep)
    assert [m.to for m in mail.outbox] == [["ann@cust.example"]]


def test_import_advocates_missing_column(tmp_path):
    report, _ = _run("import_advocates", tmp_path, "email,first_name\nx@y.example,X\n")
    assert report["errors"][0]["line"] == 1
    assert "Missing column" in report["errors"][0]["reason"]


def test_import_referrals_is_idempotent_and_updates_through_advance(tmp_path, owned_advocate, rep):
    RewardRuleFactory(fixed_points=500)
    email = owned_advocate.user.email
    first = REF_HEADER + (
        f"SF-1,{email},Pat,pat@buyer.example,Buyer,lead_form,2026-01-05,qualified,2026-01-10,\n"
        f"SF-2,{email},Quin,quin@other.example,Other,verbal,2026-01-06,submitted,,\n"
    )
    report, _ = _run("import_referrals", tmp_path, first)
    assert (report["created"], report["errors"]) == (2, [])
    pat = Referral.objects.get(external_id="SF-1")
    assert (pat.stage, pat.owner_rep, pat.method) == (Stage.QUALIFIED, rep, "lead_form")
    assert pat.changes.filter(source=ReferralStageChange.Source.IMPORT).count() == 2

    second = REF_HEADER + (
        f"SF-1,{email},Pat,pat@buyer.example,Buyer,lead_form,2026-01-05,won,2026-02-01,15000\n"
        f"SF-2,{email},Quin,quin@other.example,Other,verbal,2026-01-06,submitted,,\n"
    )
    report, _ = _run("import_referrals", tmp_path, second)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert Referral.objects.count() == 2
    pat.refresh_from_db()
    assert (pat.stage, str(pat.deal_amount)) == (Stage.WON, "15000.00")
    assert LedgerEntry.objects.filter(idempotency_key=f"referral:{pat.pk}:won-reward").count() == 1
    # A third run of the same file pays nothing more.
    _run("import_referrals", tmp_path, second)
    assert LedgerEntry.objects.filter(advocate=owned_advocate).count() == 1


def test_import_referrals_stale_row_does_not_move_back(tmp_path, owned_advocate):
    email = owned_advocate.user.email
    _run(
        "import_referrals",
        tmp_path,
        REF_HEADER
        + f"SF-1,{email},Pat,pat@buyer.example,,lead_form,2026-01-05,opportunity,2026-01-20,\n",
    )
    report, _ = _run(
        "import_referrals",
        tmp_path,
        REF_HEADER
        + f"SF-1,{email},Pat,pat@buyer.example,,lead_form,2026-01-05,qualified,2026-01-10,\n",
    )
    assert report["unchanged"] == 1
    assert Referral.objects.get().stage == Stage.OPPORTUNITY


def test_import_referrals_bad_rows_self_and_duplicates(tmp_path, owned_advocate):
    email = owned_advocate.user.email
    domain = owned_advocate.company.domain
    text = REF_HEADER + (
        f"SF-1,{email},Pat,pat@buyer.example,,lead_form,2026-01-05,,,\n"  # 2 ok
        f"SF-2,{email},Me,{email},,lead_form,2026-01-05,,,\n"  # 3 self
        f"SF-3,{email},Col,col@{domain},,lead_form,2026-01-05,,,\n"  # 4 own company
        f"SF-4,{email},Pat again,pat@buyer.example,,email,2026-01-07,,,\n"  # 5 duplicate: flagged
        f"SF-5,ghost@example.com,X,x@x.example,,lead_form,2026-01-05,,,\n"  # 6 no advocate
        f"SF-6,{email},Y,y@y.example,,fax,2026-01-05,,,\n"  # 7 bad method
        f"SF-7,{email},Z,z@z.example,,lead_form,2026-01-05,closed,,\n"  # 8 bad stage
        f"SF-8,{email},W,w@w.example,,lead_form,2026-13-01,,,\n"  # 9 bad date
        f"SF-9,{email},V,v@v.example,,lead_form,2026-01-05,won,2026-01-06,12k\n"  # 10 bad amount
        f"SF-1,{email},Pat,pat@buyer.example,,lead_form,2026-01-05,,,\n"  # 11 repeated id
        f",{email},U,u@u.example,,lead_form,2026-01-05,,,\n"  # 12 no id
    )
    report, err = _run("import_referrals", tmp_path, text)
    assert [e["line"] for e in report["errors"]] == [3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert report["created"] == 2
    assert [f["line"] for f in report["flagged"]] == [5]
    assert "cannot refer yourself" in err
    assert set(Referral.objects.values_list("external_id", "stage")) == {
        ("SF-1", Stage.SUBMITTED),
        ("SF-4", Stage.REJECTED),
    }


def test_import_with_an_unreadable_csv_field_is_reported_not_a_crash(tmp_path):
    huge = "x" * 200_000  # larger than the csv module's field limit: csv.Error
    report, _ = _run("import_advocates", tmp_path, ADV_HEADER + f'"{huge}",A,B,C,T,I,,\n')
    assert "not valid CSV" in report["errors"][0]["reason"]
    assert Advocate.objects.count() == 0


def test_line_numbers_count_quoted_newlines(tmp_path):
    text = ADV_HEADER + '"not an email",A,"two\nlines",C,T,I,,\nalso-bad,B,C,D,T,I,,\n'
    report, _ = _run("import_advocates", tmp_path, text)
    assert [error["line"] for error in report["errors"]] == [3, 4]


def test_the_progress_callback_is_told_growing_row_counts(owned_advocate, settings):
    settings.REFERRAL_DAILY_LIMIT = 10_000  # historic rows, all on one day
    email = owned_advocate.user.email
    calls: list[tuple[int, int, int]] = []

    def progress(report: imports.ImportReport, rows: int) -> None:
        calls.append((rows, report.created, len(report.errors)))

    text = REF_HEADER + referral_rows(email, 1100) + "SF-x,ghost@x.example,G,g@g.example,,,,,,\n"
    # Told after each chunk (CHUNK_ROWS rows; 500 here), the last time with every row.
    report = imports.referrals_import(source=text, max_rows=None, progress=progress, chunk_rows=500)
    assert (report.created, len(report.errors)) == (1100, 1)
    assert calls == [(500, 500, 0), (1000, 1000, 0), (1101, 1100, 1)]

    calls.clear()
    rows = "".join(f"p{i}@cust.example,P,{i},,,,,\n" for i in range(600))
    imports.advocates_import(source=ADV_HEADER + rows, progress=progress, chunk_rows=500)
    assert [rows for rows, _, _ in calls] == [500, 600]
    assert calls[-1][1] == 600
    assert Advocate.objects.filter(user__email__endswith="@cust.example").count() == 600
