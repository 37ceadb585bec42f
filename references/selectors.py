"""Reads for reference calls, scoped to the caller and with their joins done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict, cast

from django.core.cache import cache
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from advocates.models import Advocate, User
from references import matching
from references.matching import guard
from references.models import (
    Ask,
    Candidate,
    DrivePass,
    Meeting,
    ReferenceDrive,
    ReferencePause,
    ReferenceRequest,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def requests_visible_to(user: User, *, see_all: bool) -> QuerySet[ReferenceRequest]:
    """Managers see every request; a rep sees their own."""
    requests = ReferenceRequest.objects.select_related("rep").prefetch_related(
        Prefetch(
            "asks",
            queryset=Ask.objects.select_related("advocate__user").order_by("-asked_at", "-id"),
            to_attr="asks_newest_first",
        )
    )
    return requests if see_all else requests.filter(rep=user)


def open_requests_newest(limit: int) -> QuerySet[ReferenceRequest]:
    """The newest open requests, with their reps (the console's list: no asks shown)."""
    return (
        ReferenceRequest.objects.filter(status__in=ReferenceRequest.OPEN_STATUSES)
        .select_related("rep")
        .order_by("-created_at", "-id")[:limit]
    )


class WithAsks(TypedDict):
    asks_newest_first: list[Ask]


def request_for_staff(
    user: User, pk: int, *, see_all: bool
) -> WithAnnotations[ReferenceRequest, WithAsks]:
    """One request with everything its page shows (404 for another rep's request)."""
    # The prefetch's ``to_attr`` is not an annotation the stubs' plugin can follow.
    return cast(
        "WithAnnotations[ReferenceRequest, WithAsks]",
        requests_visible_to(user, see_all=see_all)
        .prefetch_related(
            "products",
            "topics",
            Prefetch(
                "candidates",
                queryset=Candidate.objects.select_related(
                    "advocate__user", "advocate__company"
                ).order_by("rank", "id"),
            ),
        )
        .get(pk=pk),
    )


def prospect_shortlist(request: ReferenceRequest) -> list[Candidate]:
    return list(
        request.candidates.select_related("advocate__user", "advocate__company").order_by(
            "rank", "id"
        )
    )


def asks_for_advocate(advocate: Advocate) -> QuerySet[Ask]:
    return Ask.objects.filter(advocate=advocate).select_related("request__rep")


def pending_asks(advocate: Advocate) -> QuerySet[Ask]:
    return asks_for_advocate(advocate).filter(status=Ask.Status.PENDING).order_by("deadline")


def advocate_load(advocate: Advocate) -> int:
    return guard.advocate_load(advocate.pk)


@dataclass(frozen=True)
class NearCap:
    advocate: Advocate
    load: int


def advocates_near_cap(*, limit: int = 20) -> list[NearCap]:
    """Opted-in advocates with at most one call left this quarter, busiest first.

    Counted set-wise from the asks in the window (one GROUP BY), then the few
    advocates are fetched: no per-advocate subquery over the whole community.
    """
    since = timezone.now() - guard.CAP_WINDOW
    rows = list(
        Ask.objects.filter(
            Q(status__in=Ask.IN_FLIGHT) | Q(status=Ask.Status.COMPLETED, completed_at__gte=since),
            advocate__status=Advocate.Status.ACTIVE,
            advocate__reference_opt_in=True,
        )
        .values("advocate_id", "advocate__reference_max_calls_per_90d")
        .annotate(load=Count("id"))
        .filter(load__gte=F("advocate__reference_max_calls_per_90d") - 1)
        .order_by("-load", "advocate_id")
        .values_list("advocate_id", "load")[:limit]
    )
    advocates = Advocate.objects.select_related("user", "company").in_bulk(
        [pk for pk, _load in rows]
    )
    return [NearCap(advocate=advocates[pk], load=load) for pk, load in rows]


@dataclass(frozen=True)
class ConsoleStats:
    open_requests: int
    total_requests: int
    fulfilled: int
    fulfilment_rate: int | None  # percent of requests with a completed call
    avg_hours_to_match: float | None
    avg_hours_to_accept: float | None
    influenced_revenue: Decimal
    influenced_deals: int
    avg_days_to_close: float | None


def _hours(value) -> float | None:
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def console_stats() -> ConsoleStats:
    Status = ReferenceRequest.Status
    duration: DurationField = DurationField()
    totals = ReferenceRequest.objects.aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=ReferenceRequest.OPEN_STATUSES)),
        fulfilled=Count("id", filter=Q(status=Status.COMPLETED)),
        to_match=Avg(
            ExpressionWrapper(F("matched_at") - F("created_at"), output_field=duration),
            filter=Q(matched_at__isnull=False),
        ),
        to_accept=Avg(
            ExpressionWrapper(F("accepted_at") - F("matched_at"), output_field=duration),
            filter=Q(accepted_at__isnull=False, matched_at__isnull=False),
        ),
    )
    influenced = ReferenceRequest.objects.filter(
        status=Status.COMPLETED, outcome=ReferenceRequest.Outcome.WON
    ).aggregate(revenue=Sum("won_amount"), deals=Count("id"), days=Avg("days_to_close"))
    total = totals["total"]
    return ConsoleStats(
        open_requests=totals["open"],
        total_requests=total,
        fulfilled=totals["fulfilled"],
        fulfilment_rate=round(100 * totals["fulfilled"] / total) if total else None,
        avg_hours_to_match=_hours(totals["to_match"]),
        avg_hours_to_accept=_hours(totals["to_accept"]),
        influenced_revenue=influenced["revenue"] or Decimal(0),
        influenced_deals=influenced["deals"],
        avg_days_to_close=round(influenced["days"], 1) if influenced["days"] is not None else None,
    )


@dataclass(frozen=True)
class AcceptRate:
    advocate: Advocate
    asked: int
    said_yes: int
    calls: int

    @property
    def percent(self) -> int:
        return round(100 * self.said_yes / self.asked) if self.asked else 0


def accept_rates(*, limit: int = 20) -> list[AcceptRate]:
    """Advocates who were asked, with how often they said yes (most asked first)."""
    yes = [Ask.Status.ACCEPTED, Ask.Status.COMPLETED, Ask.Status.NO_SHOW]
    answered = [*yes, Ask.Status.DECLINED, Ask.Status.EXPIRED]
    rows = list(
        Ask.objects.filter(status__in=answered)
        .values("advocate_id")
        .annotate(
            asked=Count("id"),
            said_yes=Count("id", filter=Q(status__in=yes)),
            calls=Count("id", filter=Q(status=Ask.Status.COMPLETED)),
        )
        .order_by("-asked", "advocate_id")[:limit]
    )
    advocates = Advocate.objects.select_related("user", "company").in_bulk(
        [row["advocate_id"] for row in rows]
    )
    return [
        AcceptRate(
            advocate=advocates[row["advocate_id"]],
            asked=row["asked"],
            said_yes=row["said_yes"],
            calls=row["calls"],
        )
        for row in rows
    ]


# --- The reference console's program-wide figures ----------------------------------------

CONSOLE_CACHE_KEY = "references:console:figures:v1"
# When the shared figures were computed: what the console's cached page is keyed by,
# read without unpickling the figures (their advocates) on every visit.
CONSOLE_STAMP_KEY = "references:console:figures:at:v1"
CONSOLE_CACHE_SECONDS = 60


@dataclass(frozen=True)
class ConsoleFigures:
    stats: ConsoleStats
    near_cap: list[NearCap]
    rates: list[AcceptRate]
    computed_at: datetime


def console_figures() -> ConsoleFigures:
    """The console's cards, "near their cap" and accept rates, shared for a minute.

    They aggregate every request and every ask the program ever had (more each year)
    and only inform: nothing is acted
    on from these numbers without opening the request or the advocate, where everything
    is read live. A manager's dashboard a minute behind is right enough, and the page
    says when they were computed. The open requests listed below them are read live.
    """
    figures = cache.get(CONSOLE_CACHE_KEY)
    if not isinstance(figures, ConsoleFigures):
        figures = ConsoleFigures(
            stats=console_stats(),
            near_cap=advocates_near_cap(),
            rates=accept_rates(),
            computed_at=timezone.now(),
        )
        cache.set_many(
            {CONSOLE_CACHE_KEY: figures, CONSOLE_STAMP_KEY: figures.computed_at.isoformat()},
            CONSOLE_CACHE_SECONDS,
        )
    return figures


def console_figures_stamp() -> str:
    """When the figures ``console_figures`` serves were computed (computing them when
    there are none)."""
    stamp = cache.get(CONSOLE_STAMP_KEY)
    return stamp if isinstance(stamp, str) else console_figures().computed_at.isoformat()


def pause_current(advocate: Advocate) -> ReferencePause | None:
    """The advocate's break from reference calls, if it runs today or later."""
    return ReferencePause.objects.filter(advocate=advocate, until__gte=timezone.localdate()).first()


# --- The public API (api/): every row, program-wide; the API orders and pages them ---


def reference_requests_for_api() -> QuerySet[ReferenceRequest]:
    return ReferenceRequest.objects.select_related("rep")


# --- Scheduled calls ----------------------------------------------------------------------

_MEETING_JOINS = ("ask__advocate__user", "ask__advocate__company", "ask__request__rep")


def meeting_current(ask: Ask) -> Meeting | None:
    """The call's live meeting, else its latest one (cancelled or settled), with slots."""
    meetings = (
        Meeting.objects.filter(ask=ask)
        .select_related(*_MEETING_JOINS)
        .prefetch_related("slots")
        .order_by("-id")
    )
    live = next((m for m in meetings if m.status in Meeting.LIVE), None)
    return live or next(iter(meetings), None)


AGREED = (Ask.Status.ACCEPTED, Ask.Status.COMPLETED, Ask.Status.NO_SHOW)


def meeting_for_request(request: ReferenceRequest) -> Meeting | None:
    """The meeting of the request's agreed (or settled) call, if one was arranged in Vouch.
    From the request's asks when they were read with it (``requests_visible_to``)."""
    asks = getattr(request, "asks_newest_first", None)
    if asks is None:
        ask = request.asks.filter(status__in=AGREED).order_by("-id").first()
    else:
        ask = max((a for a in asks if a.status in AGREED), key=lambda a: a.pk, default=None)
    return meeting_current(ask) if ask is not None else None


def meetings_for_asks(asks: list[Ask]) -> dict[int, Meeting]:
    """Each ask's current meeting (live first, else latest), in one query."""
    found: dict[int, Meeting] = {}
    rows = Meeting.objects.filter(ask__in=asks).order_by("-id")
    for meeting in rows:
        current = found.get(meeting.ask_id)
        if current is None or (
            meeting.status in Meeting.LIVE and current.status not in Meeting.LIVE
        ):
            found[meeting.ask_id] = meeting
    return found


def meeting_by_token_side(pk: int) -> Meeting | None:
    return Meeting.objects.select_related(*_MEETING_JOINS).filter(pk=pk).first()


def disputes() -> QuerySet[Meeting]:
    """Calls whose sides disagree on whether they took place, oldest first."""
    return (
        Meeting.objects.filter(attendance=Meeting.Attendance.DISPUTED)
        .select_related(*_MEETING_JOINS)
        .order_by("settled_at", "id")
    )


# --- Reference drives -------------------------------------------------------------------

DRIVE_STATUSES = ReferenceRequest.DRIVE_STATUSES
# Scoring is done in Python: the newest offered requests an advocate may take, at most.
MAX_DRIVE_REQUESTS = 200


def drive_requests_for(advocate: Advocate) -> QuerySet[ReferenceRequest]:
    """Requests an open drive offers that this advocate may still pick: nobody asked or
    agreed, not asked of them before, not passed on by them, not past its date."""
    return (
        ReferenceRequest.objects.filter(
            pk__in=ReferenceDrive.objects.filter(closed_at__isnull=True).values("requests"),
            status__in=DRIVE_STATUSES,
            needed_by__gte=timezone.localdate(),
        )
        .exclude(pk__in=Ask.objects.filter(status__in=Ask.IN_FLIGHT).values("request_id"))
        .exclude(pk__in=Ask.objects.filter(advocate=advocate).values("request_id"))
        .exclude(pk__in=DrivePass.objects.filter(advocate=advocate).values("request_id"))
        .prefetch_related("products", "topics")
        .order_by("-created_at", "-id")
    )


def drive_suggestions(advocate: Advocate, *, limit: int = 3) -> list[matching.Suggestion]:
    """Up to ``limit`` offered requests that fit the advocate best, with the reasons."""
    offered = list(drive_requests_for(advocate)[:MAX_DRIVE_REQUESTS])
    return matching.suggest(advocate, offered, limit=limit)


def drives_visible_to(user: User, *, see_all: bool) -> QuerySet[ReferenceDrive]:
    drives = (
        ReferenceDrive.objects.select_related("created_by")
        .annotate(
            offered=Count("requests", distinct=True),
            taken=Count(
                "requests",
                filter=~Q(requests__status__in=DRIVE_STATUSES),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-id")
    )  # Meta.ordering is dropped with an aggregate
    return drives if see_all else drives.filter(created_by=user)


def drive_offerable_requests(user: User, *, see_all: bool) -> QuerySet[ReferenceRequest]:
    """Requests the user may offer in a new drive (their own, or any for a manager)."""
    rows = ReferenceRequest.objects.filter(status__in=DRIVE_STATUSES).order_by("-created_at", "-id")
    return rows if see_all else rows.filter(rep=user)
