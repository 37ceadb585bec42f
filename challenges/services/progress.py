"""Writes for levels and badges: the manager's ladder and badge set, and recognising what
an advocate has reached, once.

``on_activity`` is the one entry point other code calls after something that may move
an advocate forward (a submission approved, a referral made, a call taken). It is
idempotent and cheap: a handful of queries when nothing is new, and the unique
constraints on ``AdvocateBadge`` and ``LevelAchievement`` decide who records an award
when two calls race, so a badge and its notification are created exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from advocates.models import Advocate, Notification, User
from challenges.models import AdvocateBadge, Badge, Challenge, Level, LevelAchievement
from challenges.selectors.progress import BadgeMeasures, badge_earned, levels_all
from core import fragments
from core.audit import audit_record
from core.i18n import speaking_to

DEFAULT_LEVELS: tuple[tuple[str, int], ...] = (
    # Suggested to a manager in their language (gettext at display); the demo keeps English.
    (gettext_noop("Insider"), 0),
    (gettext_noop("Advocate"), 500),
    (gettext_noop("Champion"), 2000),
    (gettext_noop("Legend"), 5000),
)

# name, description, rule, count, icon
DEFAULT_BADGES: tuple[tuple[str, str, str, int, str], ...] = (
    ("First step", "Completed a first challenge.", Badge.Rule.FIRST_CHALLENGE, 1, "🚀"),
    ("Regular", "Completed 5 challenges.", Badge.Rule.CHALLENGES, 5, "⭐"),
    ("Reviewer", "Wrote 3 product reviews.", Badge.Rule.REVIEWS, 3, "📝"),
    ("On a roll", "Earned points 4 weeks in a row.", Badge.Rule.STREAK_WEEKS, 4, "🔥"),
    ("Connector", "Referred a first colleague.", Badge.Rule.FIRST_REFERRAL, 1, "🤝"),
    ("Voice of the customer", "Took a first reference call.", Badge.Rule.FIRST_REFERENCE, 1, "📞"),
)


# --- Levels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelRow:
    """One row of the levels form: ``id`` None for a new level."""

    id: int | None
    name: str
    threshold: int
    delete: bool = False


def _ladder_errors(kept: Sequence[LevelRow]) -> list[str]:
    errors = []
    if not kept:
        errors.append(_("Keep at least one level."))
    if any(not row.name.strip() for row in kept):
        errors.append(_("Every level needs a name."))
    names = [row.name.strip().casefold() for row in kept]
    if len(set(names)) != len(names):
        errors.append(_("Two levels have the same name: each level needs its own name."))
    thresholds = [row.threshold for row in kept]
    if len(set(thresholds)) != len(thresholds):
        errors.append(_("Two levels have the same threshold: each level needs its own."))
    if any(threshold < 0 for threshold in thresholds):
        errors.append(_("Thresholds cannot be negative."))
    elif kept and min(thresholds) != 0:
        errors.append(_("The lowest level must start at 0 points, so everyone has a level."))
    return errors


def levels_save(*, rows: Iterable[LevelRow], by: Any = None) -> list[Level]:
    """Apply the levels form: create, rename, re-threshold and delete levels.

    Refuses (ValidationError, nothing changed) unless, afterwards, names and thresholds
    are unique and the lowest threshold is 0, so every advocate always has a level.
    Levels not in ``rows`` stay as they are.
    """
    rows = list(rows)
    with transaction.atomic():
        fragments.reset()  # levels and badges show on every advocate's pages
        # The lock makes two managers saving at once apply one after the other.
        existing = {level.pk: level for level in Level.objects.select_for_update()}
        if {row.id for row in rows if row.id is not None} - set(existing):
            raise ValidationError(_("A level was changed by someone else; reload and try again."))
        mentioned = {row.id for row in rows}
        kept = [row for row in rows if not row.delete] + [
            LevelRow(id=level.pk, name=level.name, threshold=level.threshold)
            for level in existing.values()
            if level.pk not in mentioned
        ]
        errors = _ladder_errors(kept)
        if errors:
            raise ValidationError(errors)
        to_delete = [row.id for row in rows if row.delete and row.id is not None]
        try:
            Level.objects.filter(pk__in=to_delete).delete()
        except ProtectedError as error:
            used = sorted(
                {
                    str(obj.audience_level)
                    for obj in error.protected_objects
                    if isinstance(obj, Challenge)
                }
            )
            raise ValidationError(
                _(
                    "%(levels)s cannot be deleted: a challenge is open to that level. "
                    "Change the challenge's audience first."
                )
                % {"levels": ", ".join(used)}
            ) from error
        # Names and thresholds are unique row by row, so moving "Advocate" to 2000 while
        # "Champion" leaves 2000 would collide halfway: park the changed rows on values
        # nobody uses first, then write the final ones.
        changed = [
            (row.id, row)
            for row in kept
            if row.id is not None
            and (existing[row.id].name, existing[row.id].threshold)
            != (row.name.strip(), row.threshold)
        ]
        for index, (level_id, _row) in enumerate(changed):
            Level.objects.filter(pk=level_id).update(
                name=f"~{level_id}~", threshold=2_000_000_000 + index
            )
        for level_id, row in changed:
            Level.objects.filter(pk=level_id).update(name=row.name.strip(), threshold=row.threshold)
        for row in kept:
            if row.id is None:
                Level.objects.create(name=row.name.strip(), threshold=row.threshold)
        if by is not None:
            ladder = sorted((row.threshold, row.name.strip()) for row in kept)
            audit_record(
                actor=by,
                action="levels.save",
                detail={"levels": [f"{name} ({threshold})" for threshold, name in ladder]},
            )
    return levels_all()


# --- Badges ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeRow:
    id: int | None
    name: str
    description: str
    rule: str
    count: int
    icon: str
    delete: bool = False


def badges_save(*, rows: Iterable[BadgeRow], by: Any = None) -> list[Badge]:
    """Apply the badges form: create, edit and delete badges (not one someone holds).

    Changing a rule or count applies from the next activity on; badges already
    awarded stay awarded.
    """
    rows = list(rows)
    with transaction.atomic():
        fragments.reset()  # levels and badges show on every advocate's pages
        existing = {badge.pk: badge for badge in Badge.objects.select_for_update()}
        if {row.id for row in rows if row.id is not None} - set(existing):
            raise ValidationError(_("A badge was changed by someone else; reload and try again."))
        mentioned = {row.id for row in rows}
        kept = [row for row in rows if not row.delete]
        names = [row.name.strip().casefold() for row in kept] + [
            badge.name.casefold() for badge in existing.values() if badge.pk not in mentioned
        ]
        errors = []
        if any(not row.name.strip() for row in kept):
            errors.append(_("Every badge needs a name."))
        if len(set(names)) != len(names):
            errors.append(_("Two badges have the same name: each badge needs its own name."))
        if any(row.rule not in Badge.Rule.values for row in kept):
            errors.append(_("Choose a rule for every badge."))
        if any(row.count < 1 for row in kept):
            errors.append(_("A badge's count must be at least 1."))
        if errors:
            raise ValidationError(errors)
        to_delete = [row.id for row in rows if row.delete and row.id is not None]
        held = sorted(
            Badge.objects.filter(pk__in=to_delete, holders__isnull=False)
            .distinct()
            .values_list("name", flat=True)
        )
        if held:
            raise ValidationError(
                _(
                    "%(badges)s cannot be deleted: advocates hold it. "
                    "Rename it or change its rule instead."
                )
                % {"badges": ", ".join(held)}
            )
        Badge.objects.filter(pk__in=to_delete).delete()
        # Names are unique row by row: park renamed badges first (see levels_save).
        for row in kept:
            if row.id is not None and existing[row.id].name != row.name.strip():
                Badge.objects.filter(pk=row.id).update(name=f"~{row.id}~")
        for row in kept:
            values = {
                "name": row.name.strip(),
                "description": row.description.strip(),
                "rule": row.rule,
                "count": row.count,
                "icon": row.icon.strip() or "🏅",
            }
            if row.id is None:
                Badge.objects.create(**values)
            else:
                Badge.objects.filter(pk=row.id).update(**values)
        if by is not None:
            audit_record(
                actor=by,
                action="badges.save",
                detail={
                    "badges": [f"{row.name.strip()}: {row.rule} × {row.count}" for row in kept],
                    "deleted": len(to_delete),
                },
            )
    return list(Badge.objects.all())


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class ActivityResult:
    badges: list[Badge]
    levels: list[Level]


def on_activity(*, advocate_id: int) -> ActivityResult:
    """Record the levels and badges ``advocate_id`` has newly reached, with a notification.

    Safe to call any number of times, from anywhere, in parallel: an award is recorded by
    the insert that wins the unique constraint, and only that caller notifies. Runs in
    the caller's transaction when there is one (a savepoint otherwise).
    """
    points = (
        Advocate.objects.filter(pk=advocate_id).values_list("lifetime_points", flat=True).first()
    )
    if points is None:
        return ActivityResult(badges=[], levels=[])
    new_levels: list[Level] = []
    new_badges: list[Badge] = []
    levels = list(
        Level.objects.annotate(
            reached=Exists(
                LevelAchievement.objects.filter(advocate_id=advocate_id, level=OuterRef("pk"))
            )
        ).order_by("threshold")
    )
    badges = [
        badge
        for badge in Badge.objects.annotate(
            held=Exists(AdvocateBadge.objects.filter(advocate_id=advocate_id, badge=OuterRef("pk")))
        )
        if not badge.held
    ]
    measures = BadgeMeasures(advocate_id)
    earned = [badge for badge in badges if badge_earned(badge, measures)]
    due = [level for level in levels if level.threshold <= points and not level.reached]
    if not due and not earned:
        return ActivityResult(badges=[], levels=[])

    # The notifications are read by the advocate later: written in their language.
    user = User.objects.filter(advocate__pk=advocate_id).first()
    with transaction.atomic(), speaking_to(user):
        for level in due:
            _level, created = LevelAchievement.objects.get_or_create(
                advocate_id=advocate_id, level=level
            )
            if created:
                new_levels.append(level)
        # One notification for the top level newly reached, and only when it is above
        # every level reached before: a manager adding a low level later, or the
        # starting level (threshold 0), is recorded quietly.
        top_before = max((lv.threshold for lv in levels if lv.reached), default=-1)
        top_new = max(new_levels, key=lambda lv: lv.threshold, default=None)
        if top_new is not None and top_new.threshold > max(top_before, 0):
            Notification.objects.create(
                advocate_id=advocate_id,
                message=_("You reached the %(level)s level!") % {"level": top_new.name},
                url=_url("challenges:leaderboard"),
            )
        for badge in earned:
            _held, created = AdvocateBadge.objects.get_or_create(
                advocate_id=advocate_id, badge=badge
            )
            if created:
                new_badges.append(badge)
                Notification.objects.create(
                    advocate_id=advocate_id,
                    message=_("%(icon)s You earned the “%(badge)s” badge.")
                    % {"icon": badge.icon, "badge": badge.name},
                    url=_url("advocates:hub"),
                )
    return ActivityResult(badges=new_badges, levels=new_levels)


def notifications_mark_read(*, advocate_id: int) -> int:
    """Mark every unread notification of the advocate read; returns how many."""
    marked = Notification.objects.filter(advocate_id=advocate_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        fragments.advocates_changed([advocate_id])
    return marked


# --- Demo ------------------------------------------------------------------------------


def load_progress(stdout: TextIO) -> None:
    """Default levels (when none are configured) and badges; idempotent."""
    if not Level.objects.exists():
        for name, threshold in DEFAULT_LEVELS:
            Level.objects.get_or_create(threshold=threshold, defaults={"name": name})
    for name, description, rule, count, icon in DEFAULT_BADGES:
        Badge.objects.get_or_create(
            name=name,
            defaults={"description": description, "rule": rule, "count": count, "icon": icon},
        )
    for advocate_id in Advocate.objects.filter(status=Advocate.Status.ACTIVE).values_list(
        "pk", flat=True
    ):
        on_activity(advocate_id=advocate_id)
    stdout.write(
        f"Levels and badges: {Level.objects.count()} levels, {Badge.objects.count()} badges."
    )
