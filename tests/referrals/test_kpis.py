"""Referral KPIs against a dataset whose every figure is computed by hand below."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from referrals.kpis import _top, referral_kpis
from referrals.models import ReferralReward, Stage
from referrals.services.figures import referral_figures_refresh
from rewards.services.ledger import points_award
from tests.factories import AdvocateFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 3, 1), date(2026, 4, 1)
T0 = datetime(2026, 3, 1, tzinfo=UTC)  # the window's first instant (inclusive)
T_END = datetime(2026, 4, 1, tzinfo=UTC)  # the window's end (exclusive)
JOINED = datetime(2026, 2, 1, tzinfo=UTC)


def _ref(advocate, method, *, at, won_days=None, amount=None, stage=None, **kw):
    won = won_days is not None
    return ReferralFactory(
        advocate=advocate,
        method=method,
        created_at=at,
        stage=stage or (Stage.WON if won else Stage.SUBMITTED),
        won_at=at + timedelta(days=won_days) if won else None,
        deal_amount=amount,
        **kw,
    )


def _reward(referral, points, status, key):
    entry = points_award(
        advocate_id=referral.advocate_id, amount=points, reason="r", idempotency_key=key
    ).entry
    reward = ReferralReward.objects.create(
        referral=referral, kind="won", points=points, status=status, ledger_entry=entry
    )
    referral_figures_refresh(referral_ids=[referral.pk])  # as the reward services do
    return reward


@pytest.fixture
def dataset():
    """11 referring advocates (A..K, created in id order), 12 enrolled, 26 referrals, 6 won.

    A: 12 (6 social, 6 lead_form; 1 won)    -> bucket 11+
    B: 3 email (1 won)                      -> 2-10, tied with C at 3: lower id (B) ranks first
    C: 2 verbal (both won) + 1 print_card   -> 2-10
    D..K: 1 each (D won, E won)             -> bucket 1
    """
    day = timedelta(days=1)
    a, b, c = (AdvocateFactory(joined_at=JOINED) for _ in range(3))
    singles = [AdvocateFactory(joined_at=JOINED) for _ in range(8)]  # D..K
    d, e, f, g, h, i, j, k = singles
    AdvocateFactory(joined_at=JOINED, status="paused")  # L: enrolled, no referrals
    AdvocateFactory(joined_at=T_END)  # M: joined exactly at end: not enrolled
    AdvocateFactory(joined_at=JOINED, status="left")  # N
    AdvocateFactory(joined_at=JOINED, status="invited")  # O
    AdvocateFactory(joined_at=None)  # P

    won_a = _ref(a, "lead_form", at=T0 + 2 * day, won_days=10, amount=Decimal("10000.00"))
    for n in range(5):
        _ref(a, "lead_form", at=T0 + (3 + n) * day)
    for n in range(6):
        _ref(a, "social", at=T0 + (3 + n) * day)
    won_b = _ref(b, "email", at=T0 + 5 * day, won_days=20, amount=Decimal("2500.50"))
    _ref(b, "email", at=T0 + 6 * day)
    _ref(b, "email", at=T0 + 7 * day)
    won_c1 = _ref(c, "verbal", at=T0 + 1 * day, won_days=5, amount=Decimal("1000.00"))
    _ref(c, "verbal", at=T0 + 2 * day, won_days=30)  # won without an amount
    _ref(c, "print_card", at=T0 + 3 * day)
    # D's referral is created at the window's very first instant: included.
    won_d = _ref(d, "shareable_link", at=T0, won_days=1.5, amount=Decimal("499.99"))
    _ref(e, "lead_form", at=T0 + 4 * day, won_days=40, amount=Decimal("12000.00"))
    for adv in (f, g, h):
        _ref(adv, "shareable_link", at=T0 + 9 * day)
    for adv in (i, j):
        _ref(adv, "print_card", at=T0 + 9 * day)
    _ref(k, "social", at=T0 + 9 * day)

    # Left out of every figure:
    _ref(a, "email", at=T0 + 8 * day, stage=Stage.REJECTED, rejection_reason="duplicate")
    _ref(a, "verbal", at=T0 + 8 * day, won_days=2, stage=Stage.REJECTED, rejection_reason="invalid")
    _ref(e, "lead_form", at=T_END, won_days=1, amount=Decimal("999"))  # at end: excluded
    outside = _ref(b, "email", at=T0 - timedelta(seconds=1), won_days=1, amount=Decimal("5"))
    _ref(f, "social", at=T0 - 40 * day)

    # Rewards: paid 300 (A) + owed 100 (C, the points are still out) + 50 qualified (D);
    # B's was reversed; the one outside the window does not count.
    _reward(won_a, 300, "paid", "k-a")
    _reward(won_b, 200, "reversed", "k-b")
    _reward(won_c1, 100, "owed", "k-c")
    entry = points_award(advocate_id=d.pk, amount=50, reason="q", idempotency_key="k-d").entry
    ReferralReward.objects.create(
        referral=won_d, kind="qualified", points=50, status="paid", ledger_entry=entry
    )
    referral_figures_refresh(referral_ids=[won_d.pk])
    _reward(outside, 999, "paid", "k-out")


EXPECTED = {
    "enrolled_advocates": 12,  # A..K + L (paused)
    "referring_advocates": 11,
    "active_rate": 0.9167,  # 11/12
    "referrals": 26,  # 12 + 3 + 3 + 8
    "referrals_per_advocate": 2.1667,  # 26/12
    "referrer_distribution": {"1": 0.7273, "2-10": 0.1818, "11+": 0.0909},  # 8/11, 2/11, 1/11
    "won": 6,
    "conversion_rate": 0.2308,  # 6/26
    "by_method": {
        "lead_form": {
            "referrals": 7,
            "won": 2,
            "conversion_rate": 0.2857,
            "share_of_referrals": 0.2692,
        },
        "email": {
            "referrals": 3,
            "won": 1,
            "conversion_rate": 0.3333,
            "share_of_referrals": 0.1154,
        },
        "shareable_link": {
            "referrals": 4,
            "won": 1,
            "conversion_rate": 0.25,
            "share_of_referrals": 0.1538,
        },
        "social": {"referrals": 7, "won": 0, "conversion_rate": 0.0, "share_of_referrals": 0.2692},
        "print_card": {
            "referrals": 3,
            "won": 0,
            "conversion_rate": 0.0,
            "share_of_referrals": 0.1154,
        },
        "verbal": {"referrals": 2, "won": 2, "conversion_rate": 1.0, "share_of_referrals": 0.0769},
    },
    # k = ceil(0.01 * 11) = 1: A -> 12/26 referrals, 1/6 won
    "top_1_percent": {"advocates": 1, "share_of_referrals": 0.4615, "share_of_won": 0.1667},
    # k = ceil(0.1 * 11) = 2: A and B (B ties C at 3 and has the lower id) -> 15/26, 2/6
    "top_10_percent": {"advocates": 2, "share_of_referrals": 0.5769, "share_of_won": 0.3333},
    "revenue_won": "26000.49",  # 10000 + 2500.50 + 1000 + 0 + 499.99 + 12000
    "median_days_to_won": 15.0,  # days 1.5, 5, 10 | 20, 30, 40
    "rewards_points": 450,  # 300 + 100 + 50
}


def test_every_key_matches_the_hand_computed_value(dataset):
    assert referral_kpis(start=START, end=END) == EXPECTED


def test_empty_window(dataset):
    empty = referral_kpis(start=date(2025, 1, 1), end=date(2025, 2, 1))
    zero_method = {"referrals": 0, "won": 0, "conversion_rate": 0.0, "share_of_referrals": 0.0}
    assert empty == {
        "enrolled_advocates": 0,
        "referring_advocates": 0,
        "active_rate": 0.0,
        "referrals": 0,
        "referrals_per_advocate": 0.0,
        "referrer_distribution": {"1": 0.0, "2-10": 0.0, "11+": 0.0},
        "won": 0,
        "conversion_rate": 0.0,
        "by_method": dict.fromkeys(
            ["lead_form", "email", "shareable_link", "social", "print_card", "verbal"],
            zero_method,
        ),
        "top_1_percent": {"advocates": 0, "share_of_referrals": 0.0, "share_of_won": 0.0},
        "top_10_percent": {"advocates": 0, "share_of_referrals": 0.0, "share_of_won": 0.0},
        "revenue_won": "0.00",
        "median_days_to_won": None,
        "rewards_points": 0,
    }


def test_tie_at_the_top_1_boundary_goes_to_the_lower_id():
    # Two advocates with 2 referrals each; only the higher id has a won deal.
    low, high = AdvocateFactory(joined_at=JOINED), AdvocateFactory(joined_at=JOINED)
    for n in range(2):
        _ref(low, "email", at=T0 + timedelta(days=n))
    _ref(high, "email", at=T0)
    _ref(high, "email", at=T0 + timedelta(days=1), won_days=1)
    top = referral_kpis(start=START, end=END)["top_1_percent"]
    assert top == {"advocates": 1, "share_of_referrals": 0.5, "share_of_won": 0.0}


def test_top_k_uses_an_exact_ceiling():
    # In floats, ceil(0.1 * 30) is 4; the definition says 3.
    per_advocate = {n: [1, 0] for n in range(30)}
    assert _top(per_advocate, 10, 30, 0)["advocates"] == 3
    assert _top(per_advocate, 1, 30, 0)["advocates"] == 1
    assert _top({n: [1, 0] for n in range(101)}, 1, 101, 0)["advocates"] == 2


def test_command_prints_the_same_json(dataset):
    out = StringIO()
    call_command("referral_kpis", "--start", "2026-03-01", "--end", "2026-04-01", stdout=out)
    assert json.loads(out.getvalue()) == EXPECTED


def test_json_endpoint_for_managers(dataset, manager_client):
    response = manager_client.get(
        reverse("referrals:kpis_json"), {"start": "2026-03-01", "end": "2026-04-01"}
    )
    assert response.status_code == 200
    assert response.json() == EXPECTED


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-03-01"},
        {"start": "nope", "end": "2026-04-01"},
        {"start": "2026-04-01", "end": "2026-03-01"},
    ],
)
def test_json_endpoint_bad_window(manager_client, params):
    response = manager_client.get(reverse("referrals:kpis_json"), params)
    assert response.status_code == 400
    assert "error" in response.json()


def test_console_page_shows_figures_beside_benchmarks(dataset, manager_client):
    body = manager_client.get(
        reverse("referrals:kpis"), {"start": "2026-03-01", "end": "2026-04-01"}
    ).content.decode()
    assert "91.7% active" in body
    assert "benchmark 36%" in body
    assert "23.1% conversion" in body
    assert "benchmark 13%" in body
    assert "26000.49" in body
    assert "32%" in body  # verbal's benchmark conversion


def test_kpi_page_query_count_constant(dataset, manager_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        manager_client.get(reverse("referrals:kpis"), {"start": "2026-03-01", "end": "2026-04-01"})
    for n in range(40):
        _ref(AdvocateFactory(joined_at=JOINED), "social", at=T0 + timedelta(hours=n), won_days=1)
    with django_assert_max_num_queries(10):
        manager_client.get(reverse("referrals:kpis"), {"start": "2026-03-01", "end": "2026-04-01"})


def test_kpi_window_far_in_the_past_is_a_form_error_not_a_500(manager_client) -> None:
    from django.urls import reverse

    response = manager_client.get(reverse("referrals:kpis_json"), {"end": "0001-01-01"})
    assert response.status_code == 400
