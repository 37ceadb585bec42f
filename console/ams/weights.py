"""The AMS's weights: the activities it counts and what each is worth, the program's
settings, and an industry's own (see console.ams for the formula and why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.models import User
from console.models import AmsIndustryWeights
from core.models import ProgramSettings
from core.outbox import enqueue_after_commit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# console.tasks.ams_recompute_all, named so that this module need not import tasks.
AMS_RECOMPUTE_ALL_TASK = "campaigns.ams.ams_recompute_all"
PRIVATE = "private"
PUBLIC = "public"


@dataclass(frozen=True)
class Activity:
    key: str
    label: StrOrPromise
    component: str
    points: int
    cap: int
    why: StrOrPromise


ACTIVITIES: tuple[Activity, ...] = (
    Activity(
        "reference_calls", gettext_lazy("Reference call given"), PRIVATE, 25, 4,
        gettext_lazy("An hour of their time in front of a buyer; four a year is about their "
                     "own 90-day cap."),
    ),
    Activity(
        "referrals_made", gettext_lazy("Referral made"), PRIVATE, 10, 5,
        gettext_lazy("Trying counts, but a list of names should not buy a high score."),
    ),
    Activity(
        "referrals_won", gettext_lazy("Referral won"), PRIVATE, 40, 3,
        gettext_lazy("The outcome the business needs."),
    ),
    Activity(
        "social_shares", gettext_lazy("Social share"), PUBLIC, 5, 10,
        gettext_lazy("Cheap to do: adds up slowly."),
    ),
    Activity(
        "reviews", gettext_lazy("Review"), PUBLIC, 20, 3,
        gettext_lazy("Read by buyers comparing vendors."),
    ),
    Activity(
        "testimonials", gettext_lazy("Testimonial"), PUBLIC, 20, 2,
        gettext_lazy("Quotable proof in their words."),
    ),
    Activity(
        "case_studies", gettext_lazy("Case study"), PUBLIC, 40, 2,
        gettext_lazy("The most effort, the longest-lived asset."),
    ),
    Activity(
        "community_answers", gettext_lazy("Community answer"), PUBLIC, 5, 10,
        gettext_lazy("Helps peers; cheap, so it saturates."),
    ),
)  # fmt: skip
ACTIVITY_KEYS = tuple(activity.key for activity in ACTIVITIES)

DEFAULT_WEIGHTS: dict[str, int] = {
    **{activity.key: activity.points for activity in ACTIVITIES},
    **{f"{activity.key}_cap": activity.cap for activity in ACTIVITIES},
    "private_share": 60,
    "private_full": 100,
    "public_full": 100,
}
# Bounds of each setting (inclusive).
LIMITS: dict[str, tuple[int, int]] = {
    **{activity.key: (0, 1000) for activity in ACTIVITIES},
    **{f"{activity.key}_cap": (0, 1000) for activity in ACTIVITIES},
    "private_share": (0, 100),
    "private_full": (1, 100000),
    "public_full": (1, 100000),
}


def weights_clean(raw: Mapping[str, Any] | None) -> dict[str, int]:
    """Stored weights merged over the defaults; ValidationError for a bad value."""
    weights = dict(DEFAULT_WEIGHTS)
    errors = []
    for key, value in (raw or {}).items():
        if key not in DEFAULT_WEIGHTS:
            errors.append(_("Unknown AMS setting “%(key)s”.") % {"key": key})
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(_("“%(key)s” must be a whole number.") % {"key": key})
            continue
        low, high = LIMITS[key]
        if not low <= value <= high:
            errors.append(
                _("“%(key)s” must be between %(low)s and %(high)s.")
                % {"key": key, "low": low, "high": high}
            )
            continue
        weights[key] = value
    if errors:
        raise ValidationError(errors)
    return weights


def weights_current() -> dict[str, int]:
    """The program's weights (defaults where none are set; defaults if unreadable)."""
    try:
        return weights_clean(ProgramSettings.load().ams_weights)
    except ValidationError:
        return dict(DEFAULT_WEIGHTS)


def _industry_key(industry: str | None) -> str:
    return (industry or "").strip().lower()


@dataclass(frozen=True)
class WeightsTable:
    """The program's weights and each industry's (the program's with the industry's
    own settings over them): an advocate is scored with their industry's, else the
    program's."""

    program: dict[str, int]
    industries: dict[str, dict[str, int]] = field(default_factory=dict)

    def for_industry(self, industry: str | None) -> dict[str, int]:
        return self.industries.get(_industry_key(industry), self.program)


def _merged(program: Mapping[str, int], own: Mapping[str, Any] | None) -> dict[str, int]:
    try:
        return weights_clean({**program, **(own or {})})
    except ValidationError:  # unreadable (edited by hand): the program's, not a crash
        return dict(program)


def weights_table() -> WeightsTable:
    """Every set of weights in two queries (the program's, the industries')."""
    program = weights_current()
    return WeightsTable(
        program=program,
        industries={
            _industry_key(row.for_industry): _merged(program, row.weights)
            for row in AmsIndustryWeights.objects.all()
        },
    )


def weights_for(industry: str | None) -> dict[str, int]:
    """The weights an advocate of ``industry`` is scored with: the table's own lookup, so
    one advocate's refresh and the nightly recompute always agree (it is a few rows)."""
    return weights_table().for_industry(industry)


# --- Weights ----------------------------------------------------------------------------


def ams_weights_save(*, weights: Mapping[str, int], by: User | None) -> dict[str, int]:
    """Store the weights (validated; only values that differ from the defaults are kept)
    and queue the full recompute after commit."""
    cleaned = weights_clean(weights)
    stored = {key: value for key, value in cleaned.items() if DEFAULT_WEIGHTS[key] != value}
    with transaction.atomic():
        program, _created = ProgramSettings.objects.select_for_update().get_or_create(pk=1)
        program.ams_weights = stored
        program.updated_by = by
        program.save(update_fields=["ams_weights", "updated_by", "updated_at"])
        # Through the outbox: with the broker down the recompute waits for it instead of
        # being lost (and the manager's save does not fail after its commit).
        enqueue_after_commit(AMS_RECOMPUTE_ALL_TASK)
    return cleaned


def ams_industry_weights_save(
    *, industry: str, weights: Mapping[str, int], by: User | None, pk: int | None = None
) -> AmsIndustryWeights:
    """Give ``industry`` its own weights (``pk``: change that set), keeping only what
    differs from the program's, and queue the full recompute after commit. Raises
    ValidationError for a bad value or an industry that already has its own."""
    industry = industry.strip()
    if not industry:
        raise ValidationError({"for_industry": _("Name the industry.")})
    cleaned = weights_clean(weights)
    program = weights_current()
    own = {key: value for key, value in cleaned.items() if program[key] != value}
    taken = ValidationError({"for_industry": _("This industry already has its own AMS weights.")})
    try:
        with transaction.atomic():
            # Compared as the scoring compares them (_industry_key), over the few rows.
            others = AmsIndustryWeights.objects.values_list("pk", "for_industry")
            key = _industry_key(industry)
            if any(_industry_key(name) == key for other, name in others if other != pk):
                raise taken
            row = AmsIndustryWeights()
            if pk is not None:
                found = AmsIndustryWeights.objects.select_for_update().filter(pk=pk).first()
                if found is None:
                    raise ValidationError(
                        _("These weights were removed meanwhile; nothing was saved.")
                    )
                row = found
            row.for_industry, row.weights, row.updated_by = industry, own, by
            row.save()
            enqueue_after_commit(AMS_RECOMPUTE_ALL_TASK)
    except IntegrityError:  # the same industry saved at the same moment by someone else
        raise taken from None
    return row


def ams_industry_weights_delete(*, pk: int) -> None:
    """The industry's advocates go back to the program's weights (recomputed after commit)."""
    with transaction.atomic():
        AmsIndustryWeights.objects.filter(pk=pk).delete()
        enqueue_after_commit(AMS_RECOMPUTE_ALL_TASK)
