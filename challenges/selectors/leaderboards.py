"""Leaderboards: this week, this month and all time; overall or per tag.

Built to stay live without a cache, whatever the number of advocates:

- week and month read ``rewards.PeriodPoints`` (one row per advocate and period, kept
  by the ledger in the award's transaction) through its index
  ``(period, starts_on, -points, advocate)``: the top of a period is the first rows of
  one index range, never a sum over the ledger;
- all time reads ``Advocate.lifetime_points`` through ``advocate_visible_rank`` (partial:
  active and not opted out) or ``advocate_lifetime_rank``
  ``(-lifetime_points, id)``;
- per tag joins ``advocates_advocate_tags``; per group, the group's memberships
  (``group_membership_group`` index), the same way.

A rank is 1 + the number of visible advocates with more points, so ties share a rank
("1, 2, 2, 4"). Visible: active and not opted out of public ranking. An advocate who
opted out is left out of everyone else's board and ranks, but still sees their own
points. Everything here is a constant number of queries, whatever the board's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from advocates.models import Advocate, CommunityGroup, GroupMembership, Tag, User
from rewards.models import PeriodPoints
from rewards.services.ledger import period_starts

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TOP = 20


class Period:
    WEEK = "week"
    MONTH = "month"
    ALL = "all"
    CHOICES = (
        (WEEK, gettext_lazy("This week")),
        (MONTH, gettext_lazy("This month")),
        (ALL, gettext_lazy("All time")),
    )
    # Inside a sentence ("1,200 points this week."): each language words it its own way.
    PHRASES = {
        WEEK: pgettext_lazy("points earned in a period", "this week"),
        MONTH: pgettext_lazy("points earned in a period", "this month"),
        ALL: pgettext_lazy("points earned in a period", "all time"),
    }
    VALUES = (WEEK, MONTH, ALL)


@dataclass(frozen=True)
class Row:
    rank: int
    advocate_id: int
    name: str
    company: str
    points: int
    is_me: bool


@dataclass(frozen=True)
class MyStanding:
    points: int
    rank: int | None  # None when hidden or not part of this board (no tag, not a member)
    hidden: bool  # opted out of public ranking
    in_board: bool  # has the board's tag / is in its group (True on the program's board)
    in_top: bool


@dataclass(frozen=True)
class Board:
    period: str
    period_label: StrOrPromise
    starts_on: date | None
    tag: Tag | None
    rows: list[Row]
    me: MyStanding | None
    group: CommunityGroup | None = None
    period_phrase: str = ""  # the period inside a sentence: "this week"


def leaderboard_viewer(*, user: User) -> Advocate | None:
    """The signed-in advocate, if any: a manager may have no advocate profile."""
    return (
        Advocate.objects.filter(user=user)
        .only("id", "status", "leaderboard_opt_out", "lifetime_points")
        .first()
    )


def leaderboard_tags() -> list[Tag]:
    """The tags a board can be filtered by."""
    return list(Tag.objects.order_by("name"))


def public_name(advocate: Advocate) -> str:
    """The name shown to other advocates: never the email address."""
    return advocate.user.get_full_name() or _("A community member")


def _visible(advocates: QuerySet[Advocate], prefix: str = "") -> QuerySet:
    return advocates.filter(
        **{f"{prefix}status": Advocate.Status.ACTIVE, f"{prefix}leaderboard_opt_out": False}
    )


@dataclass(frozen=True)
class Scope:
    """Who a board ranks: everyone visible, or those with a tag, or a group's members."""

    tag_id: int | None = None
    group_id: int | None = None

    def members(self, prefix: str = "") -> dict[str, object]:
        """The filter keeping this scope's advocates (``prefix`` reaches the advocate)."""
        found: dict[str, object] = {}
        if self.tag_id is not None:
            found[f"{prefix}tags"] = self.tag_id
        if self.group_id is not None:
            found[f"{prefix}pk__in"] = GroupMembership.objects.filter(
                group_id=self.group_id, status=GroupMembership.Status.MEMBER
            ).values("advocate_id")
        return found

    def includes(self, advocate: Advocate) -> bool:
        if self.tag_id is not None and not advocate.tags.filter(pk=self.tag_id).exists():
            return False
        if self.group_id is not None:
            return GroupMembership.objects.filter(
                group_id=self.group_id,
                advocate_id=advocate.pk,
                status=GroupMembership.Status.MEMBER,
            ).exists()
        return True


def _period_rows(period: str, starts_on: date, scope: Scope) -> QuerySet[PeriodPoints]:
    rows = PeriodPoints.objects.filter(period=period, starts_on=starts_on, points__gt=0).filter(
        advocate__status=Advocate.Status.ACTIVE, advocate__leaderboard_opt_out=False
    )
    return rows.filter(**scope.members("advocate__"))


def _all_time_rows(scope: Scope) -> QuerySet[Advocate]:
    advocates = _visible(Advocate.objects.filter(lifetime_points__gt=0))
    return advocates.filter(**scope.members())


def _ranked(entries: list[tuple[Advocate, int]], me_id: int | None) -> list[Row]:
    rows: list[Row] = []
    for index, (advocate, points) in enumerate(entries):
        # Rows come highest first and the board starts at the very top, so a row's rank
        # is 1 + the number of rows above it with more points: equal points share it.
        rank = rows[-1].rank if rows and rows[-1].points == points else index + 1
        rows.append(
            Row(
                rank=rank,
                advocate_id=advocate.pk,
                name=public_name(advocate),
                company=advocate.company.name if advocate.company else "",
                points=points,
                is_me=advocate.pk == me_id,
            )
        )
    return rows


def leaderboard(
    *,
    period: str,
    tag: Tag | None = None,
    group: CommunityGroup | None = None,
    viewer: Advocate | None = None,
    top: int = TOP,
) -> Board:
    """The top ``top`` visible advocates of a period (of a tag, or of a group's members),
    and the viewer's standing. Who may see a group's board is the view's call.

    ``viewer`` is the signed-in advocate (None for a manager without a profile).
    """
    if period not in Period.VALUES:
        period = Period.WEEK
    scope = Scope(
        tag_id=tag.pk if tag is not None else None,
        group_id=group.pk if group is not None else None,
    )
    starts_on = None
    if period == Period.ALL:
        advocates = (
            _all_time_rows(scope)
            .select_related("user", "company")
            .order_by("-lifetime_points", "id")[:top]
        )
        entries = [(advocate, advocate.lifetime_points) for advocate in advocates]
    else:
        starts_on = period_starts(timezone.now())[period]
        period_rows = (
            _period_rows(period, starts_on, scope)
            .select_related("advocate__user", "advocate__company")
            .order_by("-points", "advocate_id")[:top]
        )
        entries = [(row.advocate, row.points) for row in period_rows]
    rows = _ranked(entries, viewer.pk if viewer else None)
    me = _standing(period, starts_on, scope, viewer, rows) if viewer is not None else None
    label = dict(Period.CHOICES)[period]
    return Board(
        period=period,
        period_label=label,
        starts_on=starts_on,
        tag=tag,
        rows=rows,
        me=me,
        group=group,
        period_phrase=str(Period.PHRASES[period]),
    )


def _standing(
    period: str, starts_on: date | None, scope: Scope, viewer: Advocate, rows: list[Row]
) -> MyStanding:
    # Always the same queries, whether or not the viewer made the top: the page costs
    # the same for everyone.
    if period == Period.ALL or starts_on is None:
        points = viewer.lifetime_points
    else:
        points = (
            PeriodPoints.objects.filter(period=period, starts_on=starts_on, advocate_id=viewer.pk)
            .values_list("points", flat=True)
            .first()
            or 0
        )
    hidden = viewer.leaderboard_opt_out or viewer.status != Advocate.Status.ACTIVE
    in_board = scope.includes(viewer)
    if hidden or not in_board:
        return MyStanding(points=points, rank=None, hidden=hidden, in_board=in_board, in_top=False)
    if period == Period.ALL or starts_on is None:
        above = _all_time_rows(scope).filter(lifetime_points__gt=points).count()
    else:
        above = _period_rows(period, starts_on, scope).filter(points__gt=points).count()
    in_top = any(row.is_me for row in rows)
    return MyStanding(points=points, rank=above + 1, hidden=False, in_board=True, in_top=in_top)
