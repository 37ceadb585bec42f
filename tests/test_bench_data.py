"""The benchmark data generator and the promise the benchmark relies on: a page's
query count does not grow with the program (100 vs 400 advocates here; the same pages
run at 100,000 in bench/run)."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from advocates.models import Advocate, MatchingProfile, Person, Relationship, User
from advocates.services.matching_profiles import matching_profiles_rebuild
from bench.pages import ROLES, pages
from challenges.models import Challenge, Submission
from references.models import ReferenceRequest
from references.services.summary import counted_asks
from referrals.models import Referral, ReferralDay, ReferralWonTime, ReferrerDays
from referrals.services.figures import referral_figures_rebuild
from referrals.services.summary import counted_referrals
from rewards.models import LedgerEntry, PeriodPoints, Redemption, Reward
from rewards.services.ledger import period_starts

NOW = "2026-03-04T12:00:00"


@pytest.fixture(autouse=True)
def _constraints_checked_now(db) -> None:
    """``--flush`` truncates inside the test's transaction, which PostgreSQL refuses while
    a row written earlier in it (the program settings every test warms) still has a
    deferred foreign-key check pending: run those checks now."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def generate(advocates: int, *, flush: bool = False, seed: int = 7) -> str:
    out = StringIO()
    args = ["bench_data", "--advocates", str(advocates), "--seed", str(seed), "--now", NOW]
    call_command(*args, *(["--flush"] if flush else []), stdout=out)
    return out.getvalue()


def _per_advocate(rows: QuerySet) -> QuerySet:
    return (
        rows.order_by()
        .values("advocate_id")
        .annotate(n=Count("pk"))
        .values_list("advocate_id", "n")
    )


def checksum() -> str:
    digest = hashlib.sha256()
    for model in (User, Advocate, LedgerEntry, Submission, Referral, Redemption, Relationship):
        digest.update(f"{model.__name__}:{model.objects.count()}".encode())
    for row in LedgerEntry.objects.order_by("pk").values_list(
        "pk", "advocate_id", "amount", "kind", "idempotency_key", "created_at"
    ):
        digest.update(repr(row).encode())
    for row in Referral.objects.order_by("pk").values_list(
        "pk", "advocate_id", "method", "stage", "referred_email", "created_at", "deal_amount"
    ):
        digest.update(repr(row).encode())
    for row in Advocate.objects.order_by("pk").values_list(
        "pk", "company_id", "title", "status", "balance", "lifetime_points", "owner_rep_id"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.django_db
def test_bench_data_keeps_the_ledger_invariants_and_scales_with_n() -> None:
    output = generate(200)
    assert "rows/s" in output
    assert "vouch-bench-2026" in output

    assert Advocate.objects.count() == 200
    sums = {
        row["advocate_id"]: row
        for row in LedgerEntry.objects.values("advocate_id").annotate(
            total=Sum("amount"), awards=Sum("amount", filter=Q(kind=LedgerEntry.Kind.AWARD))
        )
    }
    for advocate in Advocate.objects.all():
        row = sums.get(advocate.pk, {"total": 0, "awards": 0})
        assert advocate.balance == (row["total"] or 0) >= 0
        assert advocate.lifetime_points == (row["awards"] or 0)

    expected: dict[tuple, int] = {}
    for advocate_id, amount, created_at in LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.AWARD
    ).values_list("advocate_id", "amount", "created_at"):
        for period, starts_on in period_starts(created_at).items():
            key = (advocate_id, period, starts_on)
            expected[key] = expected.get(key, 0) + amount
    stored = {(p.advocate_id, p.period, p.starts_on): p.points for p in PeriodPoints.objects.all()}
    assert stored == expected

    # The counts segments read equal a recount of the rows (referrals not rejected,
    # calls completed), as the services keep them.
    made = dict(_per_advocate(counted_referrals()))
    given = dict(_per_advocate(counted_asks()))
    assert made
    assert given
    assert {a.pk: (a.referral_count, a.reference_count) for a in Advocate.objects.all()} == {
        pk: (made.get(pk, 0), given.get(pk, 0))
        for pk in Advocate.objects.values_list("pk", flat=True)
    }

    assert not Reward.objects.filter(stock__lt=0).exists()
    # Proportional to N (100,000 -> 2,000,000 entries, 1,000,000 submissions, ...).
    assert LedgerEntry.objects.count() == 4000
    assert Referral.objects.count() == 1000
    assert Relationship.objects.count() == 2000
    assert Referral.objects.values("method").distinct().count() == 6
    assert Referral.objects.values("stage").distinct().count() == 6
    assert Submission.objects.count() > 1000
    assert Challenge.objects.exists()
    assert ReferenceRequest.objects.exists()
    assert (
        Redemption.objects.filter(spend_entry__isnull=False).count() == Redemption.objects.count()
    )
    # Every advocate has a person in the graph; the bench rep owns advocates and requests.
    assert Person.objects.filter(advocate__isnull=False).count() == 200
    rep = User.objects.get(email=ROLES["rep"])
    assert rep.owned_advocates.exists()
    assert rep.reference_requests.filter(status="open").exists()
    activity = Advocate.objects.annotate(n=Count("ledger_entries")).get(
        user__email=ROLES["advocate"]
    )
    assert activity.n > 5
    assert activity.referrals.exists()

    # The matching profiles written are the ones the service computes from the rows.
    written = _matching_profiles()
    assert (
        len(written)
        == Advocate.objects.filter(status=Advocate.Status.ACTIVE, reference_opt_in=True).count()
        > 0
    )
    matching_profiles_rebuild()
    assert _matching_profiles() == written

    # So are the referral KPIs' rollups.
    written = _kpi_rollups()
    assert written[0]
    referral_figures_rebuild()
    assert _kpi_rollups() == written


def _kpi_rollups() -> tuple[dict, dict, dict]:
    days = {
        (row[0], row[1]): row[2:]
        for row in ReferralDay.objects.values_list(
            "day", "method", "referrals", "won", "timed", "revenue", "reward_points"
        )
        if any(row[2:])  # the services keep a row per method of a day they touched
    }
    won_times = {
        (day, whole): deals
        for day, whole, deals in ReferralWonTime.objects.values_list("day", "whole_days", "deals")
    }
    referrers = {
        pk: (sorted(made), sorted(won))
        for pk, made, won in ReferrerDays.objects.values_list("advocate_id", "days", "won_days")
    }
    return days, won_times, referrers


def _matching_profiles() -> dict[int, tuple]:
    """Each profile's columns, the product and tag ids as sets (kept in any order)."""
    rows = MatchingProfile.objects.values_list(
        "advocate_id", "industry", "seniority", "size_band", "calls_cap", "products", "tags"
    )
    return {
        pk: (*facts, set(products.split()), set(tags.split()))
        for pk, *facts, products, tags in rows
    }


@pytest.mark.django_db
def test_same_seed_same_data_and_a_second_run_needs_flush() -> None:
    generate(50)
    first = checksum()
    with pytest.raises(CommandError, match="already has advocates"):
        generate(50)
    generate(50, flush=True)
    assert checksum() == first
    generate(50, flush=True, seed=8)
    assert checksum() != first


def _query_counts() -> dict[str, int]:
    clients = {}
    for role, email in ROLES.items():
        clients[role] = Client()
        clients[role].force_login(User.objects.get(email=email))
    counts = {}
    for page in pages():
        client = clients[page.role]
        client.get(page.url)  # warm caches that are per-process, not per-request
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        assert response.status_code == 200, (page.name, response.status_code)
        counts[page.name] = len(queries)
    return counts


@pytest.mark.django_db
def test_query_counts_per_page_do_not_grow_with_the_program() -> None:
    generate(100)
    small = _query_counts()
    generate(400, flush=True)
    large = _query_counts()
    assert {"hub", "challenge list", "leaderboard week", "reward catalog"} <= set(small)
    assert large == small
