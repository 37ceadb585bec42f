"""Reads for reference calls, scoped to the caller and with their joins done."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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
from django.db.models.functions import Coalesce

from advocates.models import Advocate, User
from references import matching
from references.models import Ask, Candidate, ReferenceRequest


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


def request_for_staff(user: User, pk: int, *, see_all: bool) -> ReferenceRequest:
    """One request with everything its page shows (404 for another rep's request)."""
    return (
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
        .get(pk=pk)
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
    return matching.advocate_load(advocate.pk)


@dataclass(frozen=True)
class NearCap:
    advocate: Advocate
    load: int


def advocates_near_cap(*, limit: int = 20) -> list[NearCap]:
    """Opted-in advocates with at most one call left this quarter, busiest first."""
    rows = (
        Advocate.objects.filter(status=Advocate.Status.ACTIVE, reference_opt_in=True)
        .annotate(load=Coalesce(matching.load_subquery(), 0))
        .filter(load__gt=0, load__gte=F("reference_max_calls_per_90d") - 1)
        .select_related("user", "company")
        .order_by("-load", "pk")[:limit]
    )
    return [NearCap(advocate=row, load=row.load) for row in rows]


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
    duration = DurationField()
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


def accept_rates(*, limit: int = 20) -> QuerySet[Advocate]:
    """Advocates who were asked, with how often they said yes (most asked first)."""
    yes = [Ask.Status.ACCEPTED, Ask.Status.COMPLETED, Ask.Status.NO_SHOW]
    answered = [*yes, Ask.Status.DECLINED, Ask.Status.EXPIRED]
    return (
        Advocate.objects.annotate(
            asked=Count("reference_asks", filter=Q(reference_asks__status__in=answered)),
            said_yes=Count("reference_asks", filter=Q(reference_asks__status__in=yes)),
            calls=Count("reference_asks", filter=Q(reference_asks__status=Ask.Status.COMPLETED)),
        )
        .filter(asked__gt=0)
        .select_related("user", "company")
        .order_by("-asked", "pk")[:limit]
    )
