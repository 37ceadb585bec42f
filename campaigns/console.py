"""Reads for the console home: program health, activity, funnels, level distribution.

Every figure is one aggregate query whatever the number of advocates (designed for
100,000 and more): counts are computed by the database, Python only sees a handful of
rows (12 weeks, 6 methods, the levels). ``console_overview`` runs a fixed number of
queries; tests/campaigns/test_console.py holds it to that at two sizes.

"Active this month" is ``Advocate.last_active_at`` inside the calendar month (UTC).
That column is the program's own definition of "took an action" (kept by the services
that record activity: submissions, referrals, reference calls...), and it is one range
count on an indexed column. Counting advocates with a ledger award this month would
be less faithful: awards include welcome points and manager adjustments (not actions),
and a referral's "won" award arrives months after the advocate acted. The console shows
the ledger figure beside it ("earned points this month", from the per-month points
table) so a gap between the two is visible rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.utils import timezone

from advocates.models import Advocate
from challenges.models import Level, Submission
from references.models import ReferenceRequest
from referrals.models import Method, Referral, Stage
from rewards.models import PeriodPoints, Redemption

ENROLLED = (Advocate.Status.ACTIVE, Advocate.Status.PAUSED)
WEEKS = 12
CHALLENGE_FUNNEL_DAYS = 90
REFERRAL_WINDOW_DAYS = 365
NEW_REFERRAL_DAYS = 30


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Health:
    enrolled: int
    invited: int
    active_this_month: int
    earned_this_month: int
    pending_reviews: int
    pending_redemptions: int
    open_reference_requests: int
    new_referrals: int

    @property
    def active_percent(self) -> int | None:
        return round(100 * self.active_this_month / self.enrolled) if self.enrolled else None


@dataclass(frozen=True)
class Week:
    starts_on: date
    points: int
    advocates: int

    @property
    def label(self) -> str:
        return f"{self.starts_on:%b} {self.starts_on.day}"


@dataclass(frozen=True)
class LevelCount:
    name: str
    threshold: int | None
    advocates: int


@dataclass(frozen=True)
class MethodRow:
    method: str
    label: str
    referrals: int
    won: int

    @property
    def conversion(self) -> int | None:
        return round(100 * self.won / self.referrals) if self.referrals else None


@dataclass(frozen=True)
class Overview:
    now: datetime
    health: Health
    weeks: list[Week]
    challenge_funnel: list[tuple[str, int]]
    challenge_submissions: dict[str, int]
    referral_funnel: list[tuple[str, int]]
    referral_lost: int
    methods: list[MethodRow]
    levels: list[LevelCount]


def _advocate_counts(now: datetime, levels: list[Level]) -> dict[str, int]:
    """Enrolled, invited, active this month and one count per level: one query."""
    enrolled = Q(status__in=ENROLLED)
    counts = {
        "enrolled": Count("id", filter=enrolled),
        "invited": Count("id", filter=Q(status=Advocate.Status.INVITED)),
        "active": Count("id", filter=enrolled & Q(last_active_at__gte=month_start(now))),
    }
    thresholds = [level.threshold for level in levels]
    if thresholds and thresholds[0] > 0:
        counts["level_none"] = Count("id", filter=enrolled & Q(lifetime_points__lt=thresholds[0]))
    for i, level in enumerate(levels):
        band = enrolled & Q(lifetime_points__gte=level.threshold)
        if i + 1 < len(levels):
            band &= Q(lifetime_points__lt=thresholds[i + 1])
        counts[f"level_{level.pk}"] = Count("id", filter=band)
    return Advocate.objects.aggregate(**counts)


def _weeks(now: datetime) -> list[Week]:
    """Points earned and advocates earning, per ISO week, the last ``WEEKS`` weeks.

    Read from the per-week points table the ledger keeps (one row per advocate and
    week), not from the ledger itself: an order of magnitude fewer rows at scale.
    """
    today = now.date()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=WEEKS - 1)
    rows = (
        PeriodPoints.objects.filter(period=PeriodPoints.Period.WEEK, starts_on__gte=first)
        .order_by()
        .values("starts_on")
        # Not "points": an annotation of that name would shadow the column in the filter.
        .annotate(total=Sum("points"), earners=Count("id", filter=Q(points__gt=0)))
    )
    by_week = {row["starts_on"]: row for row in rows}
    weeks = []
    for i in range(WEEKS):
        monday = first + timedelta(weeks=i)
        row = by_week.get(monday, {})
        weeks.append(
            Week(starts_on=monday, points=row.get("total") or 0, advocates=row.get("earners", 0))
        )
    return weeks


def _challenge_counts(now: datetime) -> dict[str, int]:
    since = now - timedelta(days=CHALLENGE_FUNNEL_DAYS)
    approved = Q(status=Submission.Status.APPROVED)
    return Submission.objects.filter(created_at__gte=since).aggregate(
        submitters=Count("advocate", distinct=True),
        approved_advocates=Count("advocate", distinct=True, filter=approved),
        submissions=Count("id"),
        approved=Count("id", filter=approved),
        pending=Count("id", filter=Q(status=Submission.Status.PENDING)),
        rejected=Count("id", filter=Q(status=Submission.Status.REJECTED)),
    )


def _reached(stage: str) -> Q:
    # Reached a stage: is there now, or passed through it (the stage history). A lost
    # referral keeps how far it got; a CRM may jump stages, so later ones count too.
    return Q(stage=stage) | Q(changes__to_stage=stage)


def _referral_funnel(now: datetime) -> dict[str, int]:
    """Referrals of the last year (rejected left out) by the furthest stage reached."""
    since = now - timedelta(days=REFERRAL_WINDOW_DAYS)
    furthest = Max(
        Case(
            When(_reached(Stage.WON), then=Value(3)),
            When(_reached(Stage.OPPORTUNITY), then=Value(2)),
            When(_reached(Stage.QUALIFIED), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    # Aggregating over an aggregate annotation: Django wraps the per-referral query in
    # a subquery, so this is still one statement.
    return (
        Referral.objects.filter(created_at__gte=since)
        .exclude(stage=Stage.REJECTED)
        .annotate(furthest=furthest)
        .aggregate(
            submitted=Count("id"),
            qualified=Count("id", filter=Q(furthest__gte=1)),
            opportunity=Count("id", filter=Q(furthest__gte=2)),
            won=Count("id", filter=Q(furthest__gte=3)),
            lost=Count("id", filter=Q(stage=Stage.LOST)),
        )
    )


def _methods(now: datetime) -> tuple[list[MethodRow], int]:
    """Referrals and won deals per method over the last year, and the new ones (30 days)."""
    since = now - timedelta(days=REFERRAL_WINDOW_DAYS)
    recent = now - timedelta(days=NEW_REFERRAL_DAYS)
    rows = (
        Referral.objects.filter(created_at__gte=since)
        .exclude(stage=Stage.REJECTED)
        .order_by()
        .values("method")
        .annotate(
            n=Count("id"),
            won=Count("id", filter=Q(stage=Stage.WON)),
            new=Count("id", filter=Q(created_at__gte=recent)),
        )
    )
    by_method = {row["method"]: row for row in rows}
    methods = [
        MethodRow(
            method=value,
            label=label,
            referrals=by_method.get(value, {}).get("n", 0),
            won=by_method.get(value, {}).get("won", 0),
        )
        for value, label in Method.choices
    ]
    return methods, sum(row["new"] for row in by_method.values())


def console_overview(*, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    levels = list(Level.objects.order_by("threshold"))
    advocates = _advocate_counts(now, levels)
    earned = PeriodPoints.objects.filter(
        period=PeriodPoints.Period.MONTH, starts_on=month_start(now).date(), points__gt=0
    ).count()
    methods, new_referrals = _methods(now)
    health = Health(
        enrolled=advocates["enrolled"],
        invited=advocates["invited"],
        active_this_month=advocates["active"],
        earned_this_month=earned,
        pending_reviews=Submission.objects.filter(status=Submission.Status.PENDING).count(),
        pending_redemptions=Redemption.objects.filter(status__in=Redemption.OPEN_STATUSES).count(),
        open_reference_requests=ReferenceRequest.objects.filter(
            status__in=ReferenceRequest.OPEN_STATUSES
        ).count(),
        new_referrals=new_referrals,
    )
    challenges = _challenge_counts(now)
    referrals = _referral_funnel(now)
    level_counts = []
    if "level_none" in advocates:
        level_counts.append(LevelCount("No level yet", None, advocates["level_none"]))
    level_counts += [
        LevelCount(level.name, level.threshold, advocates[f"level_{level.pk}"]) for level in levels
    ]
    return Overview(
        now=now,
        health=health,
        weeks=_weeks(now),
        challenge_funnel=[
            ("Enrolled advocates", health.enrolled),
            ("Submitted to a challenge", challenges["submitters"]),
            ("Had a submission approved", challenges["approved_advocates"]),
        ],
        challenge_submissions={
            key: challenges[key] for key in ("submissions", "approved", "pending", "rejected")
        },
        referral_funnel=[
            ("Submitted", referrals["submitted"]),
            ("Qualified", referrals["qualified"]),
            ("Opportunity", referrals["opportunity"]),
            ("Won", referrals["won"]),
        ],
        referral_lost=referrals["lost"],
        methods=methods,
        levels=level_counts,
    )


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, end+1 00:00) in the current time zone: whole days, both included."""
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) if end else None
    return since, until
