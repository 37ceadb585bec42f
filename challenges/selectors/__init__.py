"""Reads for challenges, submissions and NPS, scoped to the caller and with their joins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property

from advocates.models import Advocate, User
from advocates.selectors import member_group_ids
from challenges.models import Challenge, NPSResponse, Submission

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

COUNTED = ~Q(status=Submission.Status.REJECTED)  # a rejected try does not use up the limit


def audience_q(advocate: Advocate) -> Q:
    """Challenges whose audience includes ``advocate``: everyone, one of their tags, a
    level whose threshold their lifetime points reach (levels are by lifetime points),
    or a group they are a member of."""
    return (
        Q(audience=Challenge.Audience.EVERYONE)
        | Q(
            audience=Challenge.Audience.TAG,
            audience_tag__in=advocate.tags.through.objects.filter(advocate_id=advocate.pk).values(
                "tag_id"
            ),
        )
        | Q(
            audience=Challenge.Audience.LEVEL,
            audience_level__threshold__lte=advocate.lifetime_points,
        )
        | Q(audience=Challenge.Audience.GROUP, audience_group__in=member_group_ids(advocate.pk))
    )


def open_now_q(now: datetime) -> Q:
    return Q(status=Challenge.Status.PUBLISHED, starts_at__lte=now) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


def _my_count(advocate_id: int) -> Coalesce:
    done = (
        Submission.objects.filter(COUNTED, challenge=OuterRef("pk"), advocate_id=advocate_id)
        .order_by()
        .values("challenge")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(done), Value(0))


def challenges_open_to(advocate: Advocate, *, now: datetime | None = None) -> QuerySet[Challenge]:
    """The challenges ``advocate`` can complete right now, ending soonest first, then newest.

    One query whatever the number of challenges: the audience and the completion count
    are subqueries, not per-row lookups.
    """
    now = now or timezone.now()
    return (
        Challenge.objects.filter(open_now_q(now))
        .filter(audience_q(advocate))
        .annotate(my_count=_my_count(advocate.pk))
        .filter(my_count__lt=F("completion_limit"))
        .order_by(F("ends_at").asc(nulls_last=True), "-starts_at", "-id")
    )


class WithMyCount(TypedDict):
    my_count: int


def challenge_for_advocate(advocate: Advocate, pk: int) -> WithAnnotations[Challenge, WithMyCount]:
    """A challenge an advocate may look at: anything but a draft (drafts are a 404).

    Whether they may *complete* it is the service's call, which explains why not.
    """
    return (
        Challenge.objects.exclude(status=Challenge.Status.DRAFT)
        .select_related("audience_tag", "audience_level", "audience_group")
        .annotate(my_count=_my_count(advocate.pk))
        .get(pk=pk)
    )


def submissions_of(advocate: Advocate) -> QuerySet[Submission]:
    """What I did: my submissions, newest first, with their challenge."""
    return (
        Submission.objects.filter(advocate=advocate)
        .select_related("challenge")
        .order_by("-created_at", "-id")
    )


def submission_of(advocate: Advocate, pk: int) -> Submission:
    """One of my submissions; another advocate's is DoesNotExist (a 404 in views)."""
    return submissions_of(advocate).get(pk=pk)


def challenge_for_manager(pk: int) -> Challenge:
    """Any challenge, for the manager's pages; Challenge.DoesNotExist otherwise."""
    return Challenge.objects.get(pk=pk)


def advocate_id_for_user(user: User) -> int:
    """The signed-in advocate's id, without loading the rest of their row."""
    return Advocate.objects.only("id").get(user=user).pk


def challenges_for_manager(*, status: str = "") -> QuerySet[Challenge]:
    """Challenges for the manager's list, newest first. No submission counts here: with a
    million submissions, counting them for every challenge (and again in the paginator's
    COUNT) took seconds; ``submission_counts`` counts for one page's challenges."""
    challenges = Challenge.objects.select_related(
        "audience_tag", "audience_level", "audience_group"
    )
    if status:
        challenges = challenges.filter(status=status)
    return challenges.order_by("-starts_at", "-id")


@dataclass(frozen=True)
class SubmissionCounts:
    total: int = 0
    pending: int = 0


# Per-challenge counts for the manager's list, cached per challenge. Why it stays
# correct: every service that adds or decides a submission forgets that challenge's
# entry after commit (``submission_counts_forget``), so the next view recounts it. The
# short lifetime bounds what the services do not see (the admin, a bulk load) and the
# one race left: a view that counted just before a commit and stores its figure just
# after the forget. Counting a page of challenges' submissions reads every one of their
# submissions, and no index avoids those heap reads.
COUNTS_CACHE_SECONDS = 60


def _counts_key(challenge_id: int) -> str:
    return f"challenges:submission-counts:v1:{challenge_id}"


def submission_counts(challenge_ids: list[int]) -> dict[int, SubmissionCounts]:
    """How many submissions each of ``challenge_ids`` has, and how many wait for review:
    from the cache, and the challenges not in it in one grouped query. A challenge
    without submissions is missing from the dict."""
    keys = {_counts_key(pk): pk for pk in challenge_ids}
    found = {keys[key]: SubmissionCounts(*value) for key, value in cache.get_many(keys).items()}
    missing = [pk for pk in challenge_ids if pk not in found]
    if missing:
        rows = (
            Submission.objects.filter(challenge_id__in=missing)
            .order_by()
            .values("challenge_id")
            .annotate(
                total=Count("id"), pending=Count("id", filter=Q(status=Submission.Status.PENDING))
            )
        )
        counted = dict.fromkeys(missing, SubmissionCounts())
        for row in rows:
            counted[row["challenge_id"]] = SubmissionCounts(
                total=row["total"], pending=row["pending"]
            )
        cache.set_many(
            {_counts_key(pk): (c.total, c.pending) for pk, c in counted.items()},
            COUNTS_CACHE_SECONDS,
        )
        found |= counted
    return {pk: counts for pk, counts in found.items() if counts.total}


def submission_counts_forget(challenge_id: int) -> None:
    """A submission of this challenge was added or decided: recount it on the next view
    (after commit, so that view sees the change)."""
    transaction.on_commit(lambda: cache.delete(_counts_key(challenge_id)))


# How far the review queue is counted. Beyond it the page and the console card say
# "1,000+": the action is the same (review, oldest first), and counting every pending
# row exactly reads the whole backlog on every view.
REVIEW_COUNT_CAP = 1000


@dataclass(frozen=True)
class CappedCount:
    """``value`` exactly when at most the cap; otherwise the cap with ``more`` set."""

    value: int
    more: bool = False


def capped_count(queryset: QuerySet[Any], cap: int) -> CappedCount:
    """COUNT over ``LIMIT cap + 1``: the query reads at most cap + 1 rows, so its cost
    stays the same however long the list grows. Order the queryset along an index (the
    subquery keeps the ordering, so the LIMIT stops an index scan early)."""
    n = queryset[: cap + 1].count()
    return CappedCount(value=min(n, cap), more=n > cap)


def pending_review_count(*, cap: int | None = None) -> CappedCount:
    """Submissions waiting for review, counted live up to ``cap`` (the console card).

    Ordered by ``created_at`` so PostgreSQL walks ``submission_review_queue`` (status,
    created_at) and stops after cap + 1 rows: a plain LIMIT let it choose a sequential
    scan from the start of the table, which in a real program (pending rows are the
    newest) reads every old submission before the first pending one."""
    return capped_count(
        Submission.objects.filter(status=Submission.Status.PENDING).order_by("created_at"),
        REVIEW_COUNT_CAP if cap is None else cap,
    )


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``cap`` rows (``more`` says there were more), so
    a long queue costs one bounded count; pages past the cap are not reachable, which a
    first-in-first-out queue never needs."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.more = False

    @cached_property
    def count(self) -> int:
        # Built from a queryset (review_queue), whatever the base class declares.
        capped = capped_count(cast(QuerySet[Any], self.object_list), self.cap)
        self.more = capped.more
        return capped.value


def review_queue() -> QuerySet[Submission]:
    """Pending submissions, oldest first (first in, first reviewed)."""
    return (
        Submission.objects.filter(status=Submission.Status.PENDING)
        .select_related("challenge", "advocate__user", "advocate__company", "nps_response")
        .order_by("created_at", "id")
    )


def submission_for_review(pk: int) -> Submission:
    return Submission.objects.select_related(
        "challenge", "advocate__user", "advocate__company", "nps_response"
    ).get(pk=pk)


# --- NPS ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NPSSummary:
    start: date
    end: date
    promoters: int
    passives: int
    detractors: int

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """% promoters (9–10) minus % detractors (0–6), from −100 to 100; None if no answers."""
        if not self.total:
            return None
        return round((self.promoters - self.detractors) * 100 / self.total)

    def share(self, count: int) -> int:
        return round(count * 100 / self.total) if self.total else 0

    @property
    def promoters_pct(self) -> int:
        return self.share(self.promoters)

    @property
    def passives_pct(self) -> int:
        return self.share(self.passives)

    @property
    def detractors_pct(self) -> int:
        return self.share(self.detractors)


def default_nps_period(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=89), today  # 90 days, today included


def nps_summary(*, start: date, end: date) -> NPSSummary:
    """The program's NPS over [start, end] (whole days, both included).

    Each advocate counts once, with their latest answer in the period, so an advocate
    who answered two surveys does not weigh double. Answers whose submission a manager
    rejected (spam, a test) do not count.
    """
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    in_period = NPSResponse.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        submission__status=Submission.Status.REJECTED
    )
    latest = in_period.filter(advocate_id=OuterRef("advocate_id")).order_by("-created_at", "-id")
    counts = (
        in_period.annotate(latest_id=Subquery(latest.values("id")[:1]))
        .filter(id=F("latest_id"))
        .aggregate(
            promoters=Count("id", filter=Q(score__gte=9)),
            passives=Count("id", filter=Q(score__gte=7, score__lte=8)),
            detractors=Count("id", filter=Q(score__lte=6)),
        )
    )
    return NPSSummary(start=start, end=end, **counts)


def nps_latest(*, advocate_id: int) -> NPSResponse | None:
    return (
        NPSResponse.objects.filter(advocate_id=advocate_id).order_by("-created_at", "-id").first()
    )


# --- The public API (api/): every row, program-wide; the API orders and pages them ---


def challenges_for_api() -> QuerySet[Challenge]:
    return Challenge.objects.all()


def submissions_for_api() -> QuerySet[Submission]:
    return Submission.objects.all()
