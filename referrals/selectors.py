"""Reads for referrals, scoped to the caller and with their joins done."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from advocates.models import Advocate, User
from core.roles import REPS_GROUP
from referrals.models import (
    ImportJob,
    Referral,
    ReferralLink,
    ReferralReward,
    RewardRule,
    Stage,
)


def referrals_for_advocate(*, advocate_id: int) -> QuerySet[Referral]:
    """The advocate's own referrals, with their won/qualified rewards (no deal internals)."""
    return (
        Referral.objects.filter(advocate_id=advocate_id)
        .only(
            "id",
            "advocate_id",
            "method",
            "referred_name",
            "referred_company",
            "stage",
            "rejection_reason",
            "created_at",
            "stage_changed_at",
        )
        .prefetch_related(
            Prefetch(
                "rewards",
                # A second-generation reward went to another advocate (the chain's first).
                queryset=ReferralReward.objects.exclude(
                    kind=ReferralReward.Kind.SECOND_GENERATION
                ).only("id", "referral_id", "kind", "points", "status"),
            )
        )
        .order_by("-created_at", "-id")
    )


def referrals_for_staff(
    *, user: User, is_manager: bool, scope: str = "mine", stage: str = ""
) -> QuerySet[Referral]:
    """A rep's routed referrals; a manager may also see all of them or the unassigned queue."""
    referrals = Referral.objects.select_related(
        "advocate__user", "advocate__company", "owner_rep", "duplicate_of"
    ).order_by("-created_at", "-id")
    if is_manager and scope == "all":
        pass
    elif is_manager and scope == "unassigned":
        referrals = referrals.filter(owner_rep__isnull=True)
    else:
        referrals = referrals.filter(owner_rep=user)
    if stage:
        referrals = referrals.filter(stage=stage)
    elif scope != "all":
        referrals = referrals.exclude(stage=Stage.REJECTED)
    return referrals


def referral_for_staff(*, user: User, is_manager: bool, pk: int) -> Referral:
    """One referral a rep owns (managers: any); Referral.DoesNotExist otherwise."""
    referrals = Referral.objects.select_related(
        "advocate__user",
        "advocate__company",
        "owner_rep",
        "duplicate_of",
        "created_by",
        "invitation__accepted_by__advocate",
    ).prefetch_related("changes__actor", "rewards")
    if not is_manager:
        referrals = referrals.filter(owner_rep=user)
    return referrals.get(pk=pk)


def active_rule() -> RewardRule | None:
    return RewardRule.objects.filter(is_active=True).first()


def second_generation_points() -> int:
    """What the active rule pays the first advocate of a chain per won referral."""
    rule = active_rule()
    return rule.second_generation_reward_points() if rule is not None else 0


@dataclass(frozen=True)
class NextWon:
    """What the advocate's next won referral earns under the active rule."""

    nth: int
    multiplier: Decimal
    points: int | None  # a fixed rule's points (escalated); None: depends on the deal
    next_step: tuple[int, Decimal] | None  # the next count tier: (min_won, multiplier)


def next_won_reward(*, advocate_id: int) -> NextWon | None:
    """None when no rule is active or it pays nothing for a won referral."""
    rule = active_rule()
    if rule is None:
        return None
    nth = Referral.objects.filter(advocate_id=advocate_id, stage=Stage.WON).count() + 1
    points = None
    if not rule.depends_on_amount:
        base = rule.won_points(None)
        if base <= 0:
            return None
        points = rule.escalated(base, nth)
    higher = sorted(
        (int(t["min_won"]), Decimal(str(t["multiplier"])))
        for t in rule.count_tiers
        if int(t["min_won"]) > nth
    )
    return NextWon(
        nth=nth,
        multiplier=rule.multiplier(nth),
        points=points,
        next_step=higher[0] if higher else None,
    )


@dataclass(frozen=True)
class Chain:
    """Who brought an advocate in (their origin referral) and whom they brought in."""

    brought_in_by: Referral | None
    brought_in: list[Advocate]


def joined_advocate(referral: Referral) -> Advocate | None:
    """The advocate who joined through the referral's invitation, if they did (no query
    after ``referral_for_staff``'s joins)."""
    invitation = referral.invitation
    user = invitation.accepted_by if invitation is not None else None
    if user is None:
        return None
    try:
        advocate = user.advocate
    except Advocate.DoesNotExist:
        return None
    advocate.user = user
    return advocate


def chain_for_advocate(advocate: Advocate) -> Chain:
    """The advocate's place in referral chains (two queries)."""
    origin = (
        Referral.objects.select_related("advocate__user")
        .filter(invitation__accepted_by_id=advocate.user_id)
        .exclude(advocate_id=advocate.pk)
        .first()
    )
    joined = (
        Referral.objects.filter(
            advocate_id=advocate.pk, invitation__accepted_by__advocate__isnull=False
        )
        .select_related("invitation__accepted_by__advocate")
        .order_by("invitation__accepted_at", "id")
    )
    brought_in = []
    for referral in joined:
        user = referral.invitation.accepted_by  # type: ignore[union-attr]  # joined: filtered on it
        user.advocate.user = user  # type: ignore[union-attr]  # the same row: its name costs no query
        brought_in.append(user.advocate)  # type: ignore[union-attr]
    return Chain(brought_in_by=origin, brought_in=brought_in)


def link_by_code(code: str) -> tuple[ReferralLink | None, bool]:
    """The link a landing code stands for, and whether it is a print-card code."""
    link = ReferralLink.objects.select_related("advocate__user").filter(code=code).first()
    if link is not None:
        return link, False
    card = (
        ReferralLink.objects.select_related("advocate__user")
        .filter(card_code=code.strip().upper())
        .first()
    )
    return card, card is not None


def reps_active() -> list[User]:
    """The sales reps a manager can route a referral to."""
    return list(
        User.objects.filter(groups__name=REPS_GROUP, is_active=True)
        .order_by("first_name", "last_name", "email")
        .only("id", "first_name", "last_name", "email")
    )


def referrals_unassigned_count() -> int:
    """Referrals waiting in the unassigned queue (rejected ones left out)."""
    return Referral.objects.filter(owner_rep__isnull=True).exclude(stage=Stage.REJECTED).count()


def advocate_active_by_email(email: str) -> Advocate | None:
    """The active advocate a rep names by email (a verbal referral)."""
    return Advocate.objects.filter(user__email__iexact=email, status=Advocate.Status.ACTIVE).first()


# --- Console imports --------------------------------------------------------------------

RECENT_IMPORT_JOBS = 10


def import_jobs_recent(*, limit: int = RECENT_IMPORT_JOBS) -> QuerySet[ImportJob]:
    """The latest console imports, newest first (every manager sees the program's)."""
    return ImportJob.objects.select_related("created_by").defer("errors", "flagged")[:limit]


def import_job_for_manager(*, job_id: int) -> ImportJob:
    """One import job for the console (the view is manager-only); DoesNotExist otherwise."""
    return ImportJob.objects.select_related("created_by").get(pk=job_id)


# --- The public API (api/): every row, program-wide; the API orders and pages them ---


def referrals_for_api() -> QuerySet[Referral]:
    return Referral.objects.select_related("owner_rep")
