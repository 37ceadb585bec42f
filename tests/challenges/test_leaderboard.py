"""Leaderboards: ranks with ties, my own rank, opt-out, per tag, and period boundaries."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from challenges.selectors.leaderboards import Period, leaderboard
from rewards.models import LedgerEntry, PeriodPoints
from rewards.services.ledger import points_award
from tests import factories

MONDAY = datetime(2026, 3, 9, 0, 1, tzinfo=UTC)  # a Monday, in March
VIEWED = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # the Wednesday after


@contextmanager
def clock(moment: datetime):
    """Everything (ledger entries included) happens as if it were ``moment``."""
    field = LedgerEntry._meta.get_field("created_at")
    with (
        patch("django.utils.timezone.now", return_value=moment),
        patch.object(field, "_get_default", new=lambda: moment),
    ):
        yield


def award(advocate, amount: int, at: datetime | None = None) -> None:
    key = f"t:{advocate.pk}:{amount}:{at}:{LedgerEntry.objects.count()}"
    with clock(at or VIEWED):
        points_award(advocate_id=advocate.pk, amount=amount, reason="test", idempotency_key=key)


def person(name: str, points: int = 0, **extra):
    first, _, last = name.partition(" ")
    advocate = factories.AdvocateFactory(
        user__first_name=first, user__last_name=last, company__name=f"{first} Co", **extra
    )
    if points:
        award(advocate, points)
        advocate.refresh_from_db()
    return advocate


def board(period: str = Period.ALL, **kwargs):
    with clock(VIEWED):
        return leaderboard(period=period, **kwargs)


def names(result) -> list[str]:
    return [row.name for row in result.rows]


def test_all_time_orders_by_points_and_ties_share_a_rank(db) -> None:
    person("Ann A", 300)
    person("Bob B", 200)
    person("Cat C", 200)
    person("Dan D", 100)
    person("Eve E")  # no points yet: not on the board

    result = board()
    assert names(result) == ["Ann A", "Bob B", "Cat C", "Dan D"]
    assert [row.rank for row in result.rows] == [1, 2, 2, 4]
    assert result.rows[0].company == "Ann Co"


def test_my_rank_shows_even_outside_the_top_20(db) -> None:
    for n in range(22):
        person(f"Top {n}", 1000 + n)
    person("Tied Twin", 5)
    me = person("Me Myself", 5)
    person("Below Me", 1)

    result = board(viewer=me)
    assert len(result.rows) == 20
    assert "Me Myself" not in names(result)
    assert (result.me.rank, result.me.points, result.me.in_top) == (23, 5, False)


def test_my_rank_in_the_top_comes_from_the_board(db) -> None:
    me = person("Me Myself", 50)
    person("Ann A", 80)
    result = board(viewer=me)
    assert (result.me.rank, result.me.in_top) == (2, True)
    assert [row.is_me for row in result.rows] == [False, True]


def test_opted_out_advocates_are_hidden_from_others_and_from_ranks(db) -> None:
    hidden = person("Hidden Hannah", 900, leaderboard_opt_out=True)
    person("Paused Pat", 800, status="paused")
    me = person("Me Myself", 10)
    person("Ann A", 500)

    result = board(viewer=me)
    assert names(result) == ["Ann A", "Me Myself"]
    assert result.me.rank == 2

    own = board(viewer=hidden)
    assert "Hidden Hannah" not in names(own)
    assert (own.me.points, own.me.rank, own.me.hidden) == (900, None, True)


def test_per_tag_board_ranks_only_advocates_with_the_tag(db) -> None:
    tag = factories.TagFactory(name="Fast onboarding")
    tagged = person("Tia Tagged", 100)
    tagged.tags.add(tag)
    me = person("Me Myself", 50)
    me.tags.add(tag)
    person("Ann Untagged", 900)

    result = board(tag=tag, viewer=me)
    assert names(result) == ["Tia Tagged", "Me Myself"]
    assert result.me.rank == 2

    outsider = board(tag=tag, viewer=person("Otto Outside", 20))
    assert (outsider.me.in_board, outsider.me.rank, outsider.me.points) == (False, None, 20)


def test_week_month_and_all_time_boundaries(db) -> None:
    me = person("Me Myself")
    award(me, 100, at=MONDAY)  # this week
    award(me, 20, at=datetime(2026, 3, 8, 23, 59, tzinfo=UTC))  # Sunday: last week, March
    award(me, 3, at=datetime(2026, 2, 28, 12, tzinfo=UTC))  # February
    rival = person("Ann A")
    award(rival, 110, at=datetime(2026, 3, 2, 9, tzinfo=UTC))  # last week, March

    week = board(Period.WEEK, viewer=me)
    month = board(Period.MONTH, viewer=me)
    ever = board(Period.ALL, viewer=me)

    assert [(r.name, r.points) for r in week.rows] == [("Me Myself", 100)]
    assert [(r.name, r.points) for r in month.rows] == [("Me Myself", 120), ("Ann A", 110)]
    assert [(r.name, r.points) for r in ever.rows] == [("Me Myself", 123), ("Ann A", 110)]
    assert str(week.starts_on) == "2026-03-09"
    assert str(month.starts_on) == "2026-03-01"


def test_a_reversed_award_leaves_the_period_board(db) -> None:
    from rewards.services.ledger import points_reverse

    me = person("Me Myself")
    award(me, 40, at=MONDAY)
    entry = LedgerEntry.objects.get(advocate=me)
    with clock(VIEWED):
        points_reverse(entry_id=entry.pk, reason="Rejected after approval")
    assert board(Period.WEEK, viewer=me).rows == []
    assert PeriodPoints.objects.get(advocate=me, period="week").points == 0


# --- The page -----------------------------------------------------------------------


def test_page_shows_the_board_and_my_rank(advocate, advocate_client) -> None:
    person("Ann A", 300)
    award(advocate, 50)
    with clock(VIEWED):
        page = advocate_client.get(reverse("challenges:leaderboard"), {"period": "all"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Ann A" in body
    assert "#2" in body
    assert 'aria-current="page">All time' in body


def test_page_says_when_i_am_hidden(advocate, advocate_client) -> None:
    advocate.leaderboard_opt_out = True
    advocate.save()
    award(advocate, 50)
    with clock(VIEWED):
        body = advocate_client.get(reverse("challenges:leaderboard"), {"period": "all"}).content
    assert b"Hidden" in body
    assert b"not ranked" in body


def test_htmx_switch_returns_only_the_board(advocate_client, htmx_headers) -> None:
    response = advocate_client.get(
        reverse("challenges:leaderboard"), {"period": "month"}, **htmx_headers
    )
    body = response.content.decode()
    assert 'id="board"' in body
    assert "<html" not in body
    assert 'aria-current="page">This month' in body


def test_bad_filters_fall_back_to_this_week(advocate_client) -> None:
    response = advocate_client.get(
        reverse("challenges:leaderboard"), {"period": "decade", "tag": "nope"}
    )
    assert response.status_code == 200
    assert 'aria-current="page">This week' in response.content.decode()


def test_manager_without_a_profile_sees_the_board_without_a_rank(manager_client) -> None:
    person("Ann A", 300)
    with clock(VIEWED):
        body = manager_client.get(reverse("challenges:leaderboard"), {"period": "all"}).content
    assert b"Ann A" in body
    assert b"Your rank" not in body


@pytest.mark.parametrize(
    "params", [{"period": "all"}, {"period": "week"}, {"period": "month", "tag": "T"}]
)
def test_query_count_does_not_grow_with_advocates(advocate, advocate_client, params) -> None:
    tag = factories.TagFactory(name="T")
    advocate.tags.add(tag)
    award(advocate, 1)
    query = {**params, "tag": tag.pk} if "tag" in params else params

    def count() -> int:
        with clock(VIEWED), CaptureQueriesContext(connection) as ctx:
            response = advocate_client.get(reverse("challenges:leaderboard"), query)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        for _ in range(n):
            someone = person("Some One", 10)
            someone.tags.add(tag)

    add(5)
    few = count()
    add(55)
    assert count() == few
