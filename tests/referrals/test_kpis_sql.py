"""The SQL referral KPIs equal the Python definition they replaced, and the console's
cached copy is dropped by every referral write (issue 7)."""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils.http import parse_http_date

from core.cache import cache_version
from referrals import kpis
from referrals.kpis import _bounds, _top, referral_kpis, referral_kpis_cached
from referrals.models import Method, Referral, ReferralReward, RejectionReason, Stage
from referrals.services import ReferralError, referral_advance, referral_create
from referrals.services.figures import referral_figures_refresh
from rewards.services.ledger import points_award
from tests.factories import AdvocateFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 3, 1), date(2026, 4, 1)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
JOINED = datetime(2026, 2, 1, tzinfo=UTC)


def _python_kpis(*, start: date, end: date) -> dict:
    """The definition as it was computed before issue 7: every row into Python."""
    from advocates.models import Advocate

    since, until = _bounds(start, end)
    window = Referral.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        stage=Stage.REJECTED
    )
    per_advocate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_method = {method: [0, 0] for method in Method.values}
    revenue, days = Decimal(0), []
    for referral in window:
        won = referral.stage == Stage.WON
        per_advocate[referral.advocate_id][0] += 1
        per_advocate[referral.advocate_id][1] += won
        per_method[referral.method][0] += 1
        per_method[referral.method][1] += won
        if won:
            revenue += referral.deal_amount or Decimal(0)
            if referral.won_at:
                days.append((referral.won_at - referral.created_at).total_seconds() / 86400)
    referrals = sum(n for n, _ in per_method.values())
    won = sum(w for _, w in per_method.values())
    referring = len(per_advocate)
    enrolled = Advocate.objects.filter(status__in=["active", "paused"], joined_at__lt=until).count()
    buckets = {"1": 0, "2-10": 0, "11+": 0}
    for n, _ in per_advocate.values():
        buckets["1" if n == 1 else "2-10" if n <= 10 else "11+"] += 1
    rate = kpis._rate
    points = sum(
        r.points
        for r in ReferralReward.objects.filter(referral__in=window, status__in=["paid", "owed"])
    )
    return {
        "enrolled_advocates": enrolled,
        "referring_advocates": referring,
        "active_rate": rate(referring, enrolled),
        "referrals": referrals,
        "referrals_per_advocate": rate(referrals, enrolled),
        "referrer_distribution": {key: rate(n, referring) for key, n in buckets.items()},
        "won": won,
        "conversion_rate": rate(won, referrals),
        "by_method": {
            method: {
                "referrals": n,
                "won": w,
                "conversion_rate": rate(w, n),
                "share_of_referrals": rate(n, referrals),
            }
            for method, (n, w) in per_method.items()
        },
        "top_1_percent": _top(per_advocate, 1, referrals, won),
        "top_10_percent": _top(per_advocate, 10, referrals, won),
        "revenue_won": f"{revenue.quantize(Decimal('0.01'))}",
        "median_days_to_won": round(statistics.median(days), 2) if days else None,
        "rewards_points": points,
    }


def _random_program(seed: int, advocates: int) -> None:
    """Advocates whose counts tie a lot (so the top-k boundaries fall inside ties, where
    only the id decides), won deals with and without amounts or dates, rejected ones,
    referrals just outside the window, and rewards of every status."""
    rng = random.Random(seed)
    people = [AdvocateFactory(joined_at=JOINED) for _ in range(advocates)]
    rng.shuffle(people)  # counts not in id order: the tie rule must do the work
    key = 0
    for person in people:
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 3, 3, 12])):
            at = T0 + timedelta(days=rng.randrange(31), seconds=rng.randrange(86400))
            stage = rng.choice([Stage.SUBMITTED, Stage.QUALIFIED, Stage.WON, Stage.WON, Stage.LOST])
            won_at = None
            if stage == Stage.WON and rng.random() < 0.9:
                won_at = at + timedelta(seconds=rng.randrange(1, 90 * 86400))
            referral = ReferralFactory(
                advocate=person,
                method=rng.choice(Method.values),
                created_at=at,
                stage=stage,
                won_at=won_at,
                deal_amount=Decimal(rng.randrange(0, 10**6)) / 100 if rng.random() < 0.7 else None,
            )
            if stage == Stage.WON and rng.random() < 0.5:
                key += 1
                entry = points_award(
                    advocate_id=person.pk, amount=10, reason="r", idempotency_key=f"s{seed}-{key}"
                ).entry
                ReferralReward.objects.create(
                    referral=referral,
                    kind="won",
                    points=rng.randrange(1, 500),
                    status=rng.choice(["paid", "owed", "reversed"]),
                    ledger_entry=entry,
                )
                referral_figures_refresh(referral_ids=[referral.pk])
        if rng.random() < 0.2:
            ReferralFactory(
                advocate=person,
                created_at=T0 + timedelta(days=3),
                stage=Stage.REJECTED,
                rejection_reason=RejectionReason.DUPLICATE,
            )
        if rng.random() < 0.2:
            edge = T0 - timedelta(microseconds=1) if rng.random() < 0.5 else T0 + timedelta(days=31)
            ReferralFactory(advocate=person, created_at=edge, stage=Stage.WON, won_at=edge)


# 101 referring advocates: k = 2 and 11; 30: k = 1 and 3 (ceil(0.1 * 30) is 4 in floats).
@pytest.mark.parametrize(("seed", "advocates"), [(1, 101), (2, 30), (3, 57), (4, 8)])
def test_sql_kpis_equal_the_python_definition(seed: int, advocates: int) -> None:
    _random_program(seed, advocates)
    AdvocateFactory(joined_at=JOINED, status="paused")
    expected = _python_kpis(start=START, end=END)
    assert expected["referring_advocates"] == advocates  # the dataset is what it claims
    assert referral_kpis(start=START, end=END) == expected


def test_top_k_boundary_inside_a_tie_goes_to_the_lower_ids() -> None:
    # 20 advocates with 2 referrals each; k10 = 2: the two lowest ids, whatever was won.
    people = [AdvocateFactory(joined_at=JOINED) for _ in range(20)]
    for n, person in enumerate(people):
        ReferralFactory(advocate=person, created_at=T0)
        won = n >= 2  # the two lowest ids won nothing, every other advocate one deal
        ReferralFactory(
            advocate=person,
            created_at=T0,
            stage=Stage.WON if won else Stage.SUBMITTED,
            won_at=T0 if won else None,
        )
    figures = referral_kpis(start=START, end=END)
    assert figures["top_10_percent"] == {
        "advocates": 2,
        "share_of_referrals": 0.1,
        "share_of_won": 0.0,
    }
    assert figures == _python_kpis(start=START, end=END)


@pytest.mark.parametrize("deals", [1, 2, 3, 4])
def test_median_of_odd_and_even_numbers_of_deals(deals: int) -> None:
    person = AdvocateFactory(joined_at=JOINED)
    for n in range(deals):
        ReferralFactory(
            advocate=person,
            created_at=T0,
            stage=Stage.WON,
            won_at=T0 + timedelta(days=[7, 1, 30, 2][n], hours=n),
        )
    # Won without a date: revenue, not the median.
    ReferralFactory(advocate=person, created_at=T0, stage=Stage.WON, deal_amount=Decimal(5))
    # Days: 7, 1 1/24, 30 1/12, 2 1/8; the even counts average the two middle ones.
    expected = {1: 7.0, 2: 4.02, 3: 7.0, 4: 4.56}[deals]
    assert referral_kpis(start=START, end=END)["median_days_to_won"] == expected


def test_query_count_does_not_grow_with_the_window(django_assert_num_queries) -> None:
    # The days' sums (methods, revenue, rewards), the per-advocate figures, the median's
    # whole days and its middle deals, the enrolled advocates.
    _random_program(5, 6)
    with django_assert_num_queries(5):
        referral_kpis(start=START, end=END)
    _random_program(6, 40)
    with django_assert_num_queries(5):
        referral_kpis(start=START, end=END)


# --- The cached copy -------------------------------------------------------------------


def _now_window() -> dict[str, date]:
    today = datetime.now(UTC).date()
    return {"start": today - timedelta(days=30), "end": today + timedelta(days=1)}


def _create(advocate, email: str = "pat@prospect.example") -> Referral:
    return referral_create(
        advocate_id=advocate.pk,
        method=Method.EMAIL,
        referred_name="Pat Prospect",
        referred_email=email,
    )


def test_cache_is_used_and_dropped_by_referral_create(
    advocate, django_capture_on_commit_callbacks
) -> None:
    ReferralFactory(advocate=advocate)
    first, computed_at = referral_kpis_cached(**_now_window())
    assert first["referrals"] == 1
    # A row written behind the services' back is not seen: the figures are the cache's.
    ReferralFactory(advocate=advocate)
    assert referral_kpis_cached(**_now_window()) == (first, computed_at)

    with django_capture_on_commit_callbacks(execute=True):
        _create(advocate)
    figures, later = referral_kpis_cached(**_now_window())
    assert figures["referrals"] == 3
    assert later >= computed_at


def test_referral_advance_drops_the_cache(advocate, django_capture_on_commit_callbacks) -> None:
    referral = ReferralFactory(advocate=advocate)
    assert referral_kpis_cached(**_now_window())[0]["won"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("120.00"))
    figures = referral_kpis_cached(**_now_window())[0]
    assert (figures["won"], figures["revenue_won"]) == (1, "120.00")
    # A later amount on the won deal alone (no stage change) also shows.
    with django_capture_on_commit_callbacks(execute=True):
        referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("150.00"))
    assert referral_kpis_cached(**_now_window())[0]["revenue_won"] == "150.00"


def _create_then_fail(advocate) -> None:
    with transaction.atomic():
        _create(advocate)
        raise ReferralError("changed my mind")


def test_a_rolled_back_write_keeps_the_cache(advocate, django_capture_on_commit_callbacks) -> None:
    referral_kpis_cached(**_now_window())
    version = cache_version(kpis.KPI_VERSION_KEY)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ReferralError),
    ):
        _create_then_fail(advocate)
    assert callbacks == []
    assert cache_version(kpis.KPI_VERSION_KEY) == version


def test_the_version_moves_only_on_commit(advocate, django_capture_on_commit_callbacks) -> None:
    version = cache_version(kpis.KPI_VERSION_KEY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _create(advocate)
        assert cache_version(kpis.KPI_VERSION_KEY) == version  # not before the commit
    for callback in callbacks:
        callback()
    assert cache_version(kpis.KPI_VERSION_KEY) != version


def test_admin_edit_drops_the_cache(advocate, django_capture_on_commit_callbacks) -> None:
    referral = ReferralFactory(advocate=advocate, method=Method.EMAIL)
    assert referral_kpis_cached(**_now_window())[0]["by_method"]["email"]["referrals"] == 1
    referral.method = Method.VERBAL
    with django_capture_on_commit_callbacks(execute=True):
        admin.site._registry[Referral].save_model(None, referral, None, True)
    figures = referral_kpis_cached(**_now_window())[0]
    assert figures["by_method"]["email"]["referrals"] == 0
    assert figures["by_method"]["verbal"]["referrals"] == 1


def test_enrolled_advocates_are_counted_live(advocate) -> None:
    ReferralFactory(advocate=advocate)
    assert referral_kpis_cached(**_now_window())[0]["enrolled_advocates"] == 1
    # Advocates change in other apps, which do not bump the referrals' version.
    AdvocateFactory(joined_at=datetime.now(UTC) - timedelta(days=1))
    figures = referral_kpis_cached(**_now_window())[0]
    assert (figures["enrolled_advocates"], figures["active_rate"]) == (2, 0.5)


def test_cached_figures_expire(advocate, monkeypatch) -> None:
    monkeypatch.setattr(kpis, "KPI_CACHE_SECONDS", 0.05)  # seconds, as Redis would
    ReferralFactory(advocate=advocate)
    referral_kpis_cached(**_now_window())
    ReferralFactory(advocate=advocate)
    time.sleep(0.1)
    assert referral_kpis_cached(**_now_window())[0]["referrals"] == 2


def test_page_and_json_say_when_the_figures_were_computed(advocate, manager_client) -> None:
    ReferralFactory(advocate=advocate)
    window = {k: v.isoformat() for k, v in _now_window().items()}
    _, computed_at = referral_kpis_cached(**_now_window())
    body = manager_client.get(reverse("referrals:kpis"), window).content.decode()
    assert (
        f"Figures as of {computed_at:%b} {computed_at.day}, {computed_at:%Y %H:%M:%S} UTC" in body
    )
    response = manager_client.get(reverse("referrals:kpis_json"), window)
    assert parse_http_date(response["Last-Modified"]) == int(computed_at.timestamp())
    assert response.json()["referrals"] == 1
