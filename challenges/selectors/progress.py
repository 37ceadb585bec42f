"""Reads for levels and badges: an advocate's level and the way to the next, the
measures each badge rule counts, badges held and unread notifications."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import Count, Q

from advocates.models import Notification
from challenges.models import AdvocateBadge, Badge, Challenge, Level, Submission
from rewards.models import PeriodPoints

# --- Levels ----------------------------------------------------------------------------


def levels_all() -> list[Level]:
    return list(Level.objects.order_by("threshold"))


def badges_all() -> list[Badge]:
    return list(Badge.objects.order_by("name"))


def level_for(points: int, levels: Sequence[Level] | None = None) -> Level | None:
    """The highest level whose threshold ``points`` reaches (None if none is configured)."""
    current = None
    for level in levels if levels is not None else levels_all():
        if level.threshold <= points:
            current = level
        else:
            break
    return current


@dataclass(frozen=True)
class LevelProgress:
    points: int
    level: Level | None
    next_level: Level | None

    @property
    def points_to_go(self) -> int:
        return max(self.next_level.threshold - self.points, 0) if self.next_level else 0

    @property
    def percent(self) -> int:
        """How far from this level's threshold to the next one (100 at the top level)."""
        if self.next_level is None:
            return 100
        start = self.level.threshold if self.level else 0
        span = self.next_level.threshold - start
        return max(0, min(100, (self.points - start) * 100 // span)) if span > 0 else 100


def level_progress(points: int, levels: Sequence[Level] | None = None) -> LevelProgress:
    """The level for ``points``, the next one and the points still to go."""
    ordered = sorted(levels if levels is not None else levels_all(), key=lambda lv: lv.threshold)
    current = level_for(points, ordered)
    upcoming = [level for level in ordered if level.threshold > points]
    return LevelProgress(points=points, level=current, next_level=upcoming[0] if upcoming else None)


# --- Badges ----------------------------------------------------------------------------


# What each rule measures. Referrals and references sit on floors above this app, so
# their counts go through the app registry instead of an import; a model or field that
# is not there counts 0 rather than failing the activity.


def _count_model(
    app_label: str, model_name: str, *, exclude: dict[str, Any] | None = None, **filters: Any
) -> int:
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return 0
    try:
        return model._default_manager.filter(**filters).exclude(**(exclude or {})).count()
    except FieldError:
        return 0


def _submission_counts(advocate_id: int) -> dict[str, int]:
    return Submission.objects.filter(
        advocate_id=advocate_id, status=Submission.Status.APPROVED
    ).aggregate(
        challenges=Count("id"),
        reviews=Count("id", filter=Q(challenge__kind=Challenge.Kind.REVIEW)),
        referral_challenges=Count("id", filter=Q(challenge__kind=Challenge.Kind.REFERRAL)),
        reference_challenges=Count("id", filter=Q(challenge__kind=Challenge.Kind.REFERENCE)),
    )


def referrals_count(advocate_id: int) -> int:
    """Referrals the advocate made that were not rejected (duplicate, self, invalid)."""
    return _count_model(
        "referrals", "Referral", advocate_id=advocate_id, exclude={"stage": "rejected"}
    )


def references_count(advocate_id: int) -> int:
    """Reference calls the advocate took (asks marked done in the references app)."""
    return _count_model("references", "Ask", advocate_id=advocate_id, status="completed")


def longest_streak_weeks(advocate_id: int) -> int:
    """The longest run of consecutive weeks in which the advocate earned points.

    Reads the weekly rows the ledger keeps (one per active week), not the ledger itself.
    """
    weeks = list(
        PeriodPoints.objects.filter(
            advocate_id=advocate_id, period=PeriodPoints.Period.WEEK, points__gt=0
        )
        .order_by("starts_on")
        .values_list("starts_on", flat=True)
    )
    best = run = 0
    previous = None
    for start in weeks:
        run = run + 1 if previous is not None and start - previous == timedelta(weeks=1) else 1
        best = max(best, run)
        previous = start
    return best


class BadgeMeasures:
    """Lazily computed measures for one advocate: each query runs at most once."""

    def __init__(self, advocate_id: int) -> None:
        self.advocate_id = advocate_id
        self._cache: dict[str, int] = {}
        self._submissions: dict[str, int] | None = None

    def _sub(self, key: str) -> int:
        if self._submissions is None:
            self._submissions = _submission_counts(self.advocate_id)
        return self._submissions[key] or 0

    def _once(self, key: str, compute: Callable[[], int]) -> int:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def value(self, rule: str) -> int:
        if rule in (Badge.Rule.FIRST_CHALLENGE, Badge.Rule.CHALLENGES):
            return self._sub("challenges")
        if rule == Badge.Rule.REVIEWS:
            return self._sub("reviews")
        if rule == Badge.Rule.STREAK_WEEKS:
            return self._once("streak", lambda: longest_streak_weeks(self.advocate_id))
        if rule == Badge.Rule.FIRST_REFERRAL:
            # A referral logged in the referrals app, or a "refer a colleague" challenge.
            return max(
                self._once("referrals", lambda: referrals_count(self.advocate_id)),
                self._sub("referral_challenges"),
            )
        if rule == Badge.Rule.FIRST_REFERENCE:
            return max(
                self._once("references", lambda: references_count(self.advocate_id)),
                self._sub("reference_challenges"),
            )
        return 0


def badge_earned(badge: Badge, measures: BadgeMeasures) -> bool:
    needed = 1 if badge.rule in _FIRST_RULES else max(badge.count, 1)
    return measures.value(badge.rule) >= needed


_FIRST_RULES = {
    Badge.Rule.FIRST_CHALLENGE,
    Badge.Rule.FIRST_REFERRAL,
    Badge.Rule.FIRST_REFERENCE,
}


# --- The hub, the profile and the manager's view ------------------------------------------


def badges_of(*, advocate_id: int) -> list[AdvocateBadge]:
    return list(
        AdvocateBadge.objects.filter(advocate_id=advocate_id)
        .select_related("badge")
        .order_by("awarded_at", "id")
    )


NOTIFICATIONS_SHOWN = 5


def notifications_unread(*, advocate_id: int, limit: int = NOTIFICATIONS_SHOWN) -> list:
    """Up to ``limit`` unread notifications, newest first (one more is fetched to say
    whether there are more)."""
    return list(
        Notification.objects.filter(advocate_id=advocate_id, read_at__isnull=True).order_by(
            "-created_at", "-id"
        )[: limit + 1]
    )
