"""Reads for referrals, scoped to the caller and with their joins done."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from advocates.models import Advocate, User
from core.roles import REPS_GROUP
from referrals.models import ImportJob, Referral, ReferralLink, ReferralReward, Stage


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
                queryset=ReferralReward.objects.only(
                    "id", "referral_id", "kind", "points", "status"
                ),
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
        "advocate__user", "advocate__company", "owner_rep", "duplicate_of", "created_by"
    ).prefetch_related("changes__actor", "rewards")
    if not is_manager:
        referrals = referrals.filter(owner_rep=user)
    return referrals.get(pk=pk)


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
