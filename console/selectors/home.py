"""Reads for the console home: program health, activity, funnels, level distribution.

Every figure is one aggregate query whatever the number of advocates: counts are
computed by the database, Python only sees a handful of rows (12 weeks, 6 methods, the
levels). ``console_overview`` runs a fixed number of queries; tests/console/test_console.py
holds it to that at two sizes.

"Active this month" is ``Advocate.last_active_at`` inside the calendar month (UTC).
That column is the program's own definition of "took an action" (kept by the services
that record activity: submissions, referrals, reference calls...), and it is one range
count on an indexed column. Counting advocates with a ledger award this month would
be less faithful: awards include welcome points and manager adjustments (not actions),
and a referral's "won" award arrives months after the advocate acted. The console shows
the ledger figure beside it ("earned points this month", from the per-month points
table) so a gap between the two is visible rather than hidden.

The queue cards (pending reviews, pending redemptions, open reference requests) are
counted on every visit: a manager who just reviewed a submission expects the number to
drop. Each is an indexed count; pending reviews stops at 1,000 ("1,000+", see
``challenges.selectors.pending_review_count``) because an exact count of a long queue
reads the whole submissions table on every visit.

Everything else (the program cards: enrolled, active this month, new referrals; and
the charts: a year of referrals, 90 days of submissions, every advocate's level) is a
trend, not a queue, and costs real database time on a large program (bench/results/
has the figures). It is computed off the request by ``console_charts_refresh_task`` (celery
beat, every ``CHARTS_REFRESH_SECONDS``) into the cache (Redis in production, shared by
every process), and the page says when it was computed. A view that finds the figures
missing or older than ``CHARTS_STALE_SECONDS`` (beat not running) asks for a refresh,
once per ``CHARTS_LOCK_SECONDS`` across processes, and renders the queue cards with
"being computed" in place of the figures rather than making the manager wait. Without
a broker (the embedded mode, tests) the figures are computed in the request instead,
as they would be by the task.

The cached figures carry the version of ``core.cache.CONSOLE_FIGURES_VERSION_KEY`` they
were computed under; the services that change who is invited or enrolled bump it on
commit. A visit that finds figures from an older version recomputes them in the
request (one request across processes; the others serve the previous figures
meanwhile): the manager who just invited someone, or whose invitee just joined,
expects the card to show it, not the figures of up to a beat ago.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from advocates.models import Advocate, Invitation
from challenges.models import Level, Submission
from challenges.selectors import pending_review_count
from core.cache import CONSOLE_FIGURES_VERSION_KEY, cache_version
from core.outbox import PUBLISH_RETRY_POLICY
from references.models import ReferenceRequest
from referrals.models import Method, Referral, ReferralStageChange, Stage
from rewards.models import PeriodPoints, Redemption

ENROLLED = (Advocate.Status.ACTIVE, Advocate.Status.PAUSED)
WEEKS = 12
CHALLENGE_FUNNEL_DAYS = 90
REFERRAL_WINDOW_DAYS = 365
NEW_REFERRAL_DAYS = 30
CHARTS_CACHE_KEY = "campaigns:console:charts:v2"
CHARTS_REFRESH_SECONDS = 300  # the beat interval (settings.CELERY_BEAT_SCHEDULE)
# Older than two beats: the beat is not running; a view asks for a refresh itself.
CHARTS_STALE_SECONDS = 2 * CHARTS_REFRESH_SECONDS
# Kept well past the refresh, so a late beat serves the previous figures, not none.
CHARTS_CACHE_SECONDS = 6 * CHARTS_REFRESH_SECONDS
# One refresh asked for at a time across every process (cache.add is atomic in Redis).
CHARTS_LOCK_KEY = "campaigns:console:charts:refreshing"
# console.tasks.console_charts_refresh_task (named, so this module need not import tasks).
CHARTS_TASK = "campaigns.console.console_charts_refresh_task"
CHARTS_LOCK_SECONDS = 120

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Health:
    """The live queue cards."""

    pending_reviews: int
    pending_reviews_more: bool  # more than ``pending_reviews`` (the count's cap) wait
    pending_redemptions: int
    open_reference_requests: int


@dataclass(frozen=True)
class Program:
    """The program cards, computed with the charts."""

    enrolled: int
    invited: int
    active_this_month: int
    earned_this_month: int
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
        return date_format(self.starts_on, "MONTH_DAY_FORMAT")


@dataclass(frozen=True)
class LevelCount:
    name: StrOrPromise
    threshold: int | None
    advocates: int


@dataclass(frozen=True)
class MethodRow:
    method: str
    label: StrOrPromise
    referrals: int
    won: int

    @property
    def conversion(self) -> int | None:
        return round(100 * self.won / self.referrals) if self.referrals else None


@dataclass(frozen=True)
class Charts:
    """The cached part of the console home (see the module docstring)."""

    computed_at: datetime
    program: Program
    weeks: list[Week]
    challenge_funnel: list[tuple[StrOrPromise, int]]
    challenge_submissions: dict[str, int]
    referral_funnel: list[tuple[StrOrPromise, int]]
    referral_lost: int
    methods: list[MethodRow]
    levels: list[LevelCount]
    version: str = ""  # CONSOLE_FIGURES_VERSION_KEY when they were computed


@dataclass(frozen=True)
class Overview:
    now: datetime
    health: Health
    charts: Charts | None  # None while the first figures are being computed


def _advocate_counts(now: datetime) -> tuple[dict[str, int], list[LevelCount]]:
    """Enrolled and active advocates, and how many sit at each level: one conditional
    count each, in one pass over the advocates."""
    levels = list(Level.objects.order_by("threshold"))
    enrolled = Q(status__in=ENROLLED)
    counts = {
        "enrolled": Count("id", filter=enrolled),
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
    row = Advocate.objects.aggregate(**counts)
    result = []
    if "level_none" in row:
        result.append(LevelCount(gettext_lazy("No level yet"), None, row["level_none"]))
    result += [
        LevelCount(level.name, level.threshold, row[f"level_{level.pk}"]) for level in levels
    ]
    return row, result


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
    # status IN (all three) lets PostgreSQL range-scan the review-queue index
    # (status, created_at) instead of reading every submission ever made.
    return Submission.objects.filter(
        status__in=Submission.Status.values, created_at__gte=since
    ).aggregate(
        submitters=Count("advocate", distinct=True),
        approved_advocates=Count("advocate", distinct=True, filter=approved),
        submissions=Count("id"),
        approved=Count("id", filter=approved),
        pending=Count("id", filter=Q(status=Submission.Status.PENDING)),
        rejected=Count("id", filter=Q(status=Submission.Status.REJECTED)),
    )


def _referrals(now: datetime) -> tuple[dict[str, int], list[MethodRow]]:
    """Referrals of the last year (rejected left out): the funnel and the methods.

    One GROUP BY (method, stage) over the window gives the methods and where each
    referral stands; only lost referrals need their stage history (how
    far they got before being lost), a second, much smaller query. A referral counts as
    having reached every stage up to its current one (a CRM may skip stages); one moved
    back from a later stage counts where it stands now.
    """
    since = now - timedelta(days=REFERRAL_WINDOW_DAYS)
    window = Referral.objects.filter(created_at__gte=since).exclude(stage=Stage.REJECTED)
    rows = window.order_by().values("method", "stage").annotate(n=Count("id"))
    per_method: dict[str, list[int]] = {value: [0, 0] for value in Method.values}
    per_stage: dict[str, int] = dict.fromkeys(Stage.values, 0)
    for row in rows:
        per_method[row["method"]][0] += row["n"]
        if row["stage"] == Stage.WON:
            per_method[row["method"]][1] += row["n"]
        per_stage[row["stage"]] += row["n"]
    rank = Case(
        When(to_stage=Stage.WON, then=Value(3)),
        When(to_stage=Stage.OPPORTUNITY, then=Value(2)),
        When(to_stage=Stage.QUALIFIED, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    # One index lookup per *lost* referral, grouped by how far it got: joining the whole
    # stage history instead would read every change ever recorded.
    furthest = Subquery(
        ReferralStageChange.objects.filter(referral_id=OuterRef("pk"))
        .order_by()
        .values("referral_id")
        .annotate(furthest=Max(rank))
        .values("furthest")[:1],
        output_field=IntegerField(),
    )
    reached = dict(
        window.filter(stage=Stage.LOST)
        .annotate(furthest=Coalesce(furthest, 0))
        .order_by()
        .values_list("furthest")
        .annotate(n=Count("id"))
    )
    lost = {
        "qualified": sum(n for rank, n in reached.items() if rank >= 1),
        "opportunity": sum(n for rank, n in reached.items() if rank >= 2),
        "won": reached.get(3, 0),
    }
    won = per_stage[Stage.WON] + lost["won"]
    opportunity = per_stage[Stage.OPPORTUNITY] + per_stage[Stage.WON] + lost["opportunity"]
    qualified = (
        per_stage[Stage.QUALIFIED]
        + per_stage[Stage.OPPORTUNITY]
        + per_stage[Stage.WON]
        + lost["qualified"]
    )
    funnel = {
        "submitted": sum(per_stage.values()),
        "qualified": qualified,
        "opportunity": opportunity,
        "won": won,
        "lost": per_stage[Stage.LOST],
    }
    methods = [
        MethodRow(
            method=value, label=label, referrals=per_method[value][0], won=per_method[value][1]
        )
        for value, label in Method.choices
    ]
    return funnel, methods


def console_health() -> Health:
    """The queue cards: counted on every visit, each an indexed (or capped) count."""
    reviews = pending_review_count()
    return Health(
        pending_reviews=reviews.value,
        pending_reviews_more=reviews.more,
        pending_redemptions=Redemption.objects.filter(status__in=Redemption.OPEN_STATUSES).count(),
        open_reference_requests=ReferenceRequest.objects.filter(
            status__in=ReferenceRequest.OPEN_STATUSES
        ).count(),
    )


def _invited(now: datetime) -> int:
    """Open invitations whose link still works. Invitations, not advocates: an invited
    contact has no advocate until they accept (``advocates.services.invitation_accept``);
    a re-send restarts the expiry from ``created_at``."""
    return Invitation.objects.filter(
        accepted_at__isnull=True,
        created_at__gt=now - timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    ).count()


def _program(now: datetime, advocates: dict[str, int]) -> Program:
    return Program(
        enrolled=advocates["enrolled"],
        invited=_invited(now),
        active_this_month=advocates["active"],
        earned_this_month=PeriodPoints.objects.filter(
            period=PeriodPoints.Period.MONTH, starts_on=month_start(now).date(), points__gt=0
        ).count(),
        new_referrals=Referral.objects.filter(
            created_at__gte=now - timedelta(days=NEW_REFERRAL_DAYS)
        )
        .exclude(stage=Stage.REJECTED)
        .count(),
    )


def _charts(now: datetime, version: str) -> Charts:
    advocates, levels = _advocate_counts(now)
    enrolled = advocates["enrolled"]
    challenges = _challenge_counts(now)
    referrals, methods = _referrals(now)
    return Charts(
        version=version,
        computed_at=now,
        program=_program(now, advocates),
        weeks=_weeks(now),
        challenge_funnel=[
            (gettext_lazy("Enrolled advocates"), enrolled),
            (gettext_lazy("Submitted to a challenge"), challenges["submitters"]),
            (gettext_lazy("Had a submission approved"), challenges["approved_advocates"]),
        ],
        challenge_submissions={
            key: challenges[key] for key in ("submissions", "approved", "pending", "rejected")
        },
        referral_funnel=[
            (gettext_lazy("Submitted"), referrals["submitted"]),
            (gettext_lazy("Qualified"), referrals["qualified"]),
            (gettext_lazy("Opportunity"), referrals["opportunity"]),
            (gettext_lazy("Won"), referrals["won"]),
        ],
        referral_lost=referrals["lost"],
        methods=methods,
        levels=levels,
    )


def console_charts_refresh(*, now: datetime | None = None) -> Charts:
    """Compute the charts and the program cards and store them for every process."""
    # The version is read before computing: a write committing meanwhile bumps it, and
    # the next visit recomputes what this call stores.
    version = cache_version(CONSOLE_FIGURES_VERSION_KEY)
    charts = _charts(now or timezone.now(), version)
    cache.set(CHARTS_CACHE_KEY, charts, CHARTS_CACHE_SECONDS)
    return charts


def _without_broker() -> bool:
    """Tasks run in the caller (no Redis: the embedded mode and the test suite)."""
    return bool(current_app.conf.task_always_eager)


def _queue_refresh() -> None:
    """Hand the refresh to a worker (raises when the broker refuses it)."""
    current_app.send_task(
        CHARTS_TASK, expires=CHARTS_LOCK_SECONDS, retry=True, retry_policy=PUBLISH_RETRY_POLICY
    )


def _ask_for_refresh(*, inline: bool) -> Charts | None:
    """Have the figures recomputed, once across processes; they are computed here only
    without a broker, or when the cache is empty and the broker refused the task."""

    if _without_broker():
        return console_charts_refresh()
    if not cache.add(CHARTS_LOCK_KEY, 1, CHARTS_LOCK_SECONDS):
        return None  # another request or the beat is computing them
    try:
        _queue_refresh()
    except Exception:  # any broker failure: the figures must still come
        logger.warning("console charts: could not queue the refresh", exc_info=True)
        if inline:
            try:
                return console_charts_refresh()
            finally:
                cache.delete(CHARTS_LOCK_KEY)
        cache.delete(CHARTS_LOCK_KEY)
    return None


def _recompute_after_write(charts: Charts) -> Charts:
    """Figures a write made out of date: recomputed here, once across processes; a
    request that finds another one at it serves the previous figures meanwhile."""
    if not cache.add(CHARTS_LOCK_KEY, 1, CHARTS_LOCK_SECONDS):
        return charts
    try:
        return console_charts_refresh()
    finally:
        cache.delete(CHARTS_LOCK_KEY)


def console_charts(*, now: datetime | None = None) -> Charts | None:
    """The figures from the cache (None while the first ones are being computed)."""
    now = now or timezone.now()
    charts = cache.get(CHARTS_CACHE_KEY)
    if charts is None:
        return _ask_for_refresh(inline=True)
    if charts.version != cache_version(CONSOLE_FIGURES_VERSION_KEY):
        return _recompute_after_write(charts)
    if charts.computed_at < now - timedelta(seconds=CHARTS_STALE_SECONDS):
        _ask_for_refresh(inline=False)  # serve these meanwhile
    return charts


def console_overview(*, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    return Overview(now=now, health=console_health(), charts=console_charts(now=now))


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, end+1 00:00) in the current time zone: whole days, both included."""
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) if end else None
    return since, until
