"""Demo: a small cohort of advocates whose NPS and activity differ, so the AMS, the
NPS-vs-AMS view and the demo segments have something to show; then every advocate's
score. Idempotent: the cohort is made once (found again by email), and the recompute
reads the records and writes only what changed.

The activity goes through the services (submissions approved by the demo manager,
referrals through referral_create), so points, badges and the ledger stay consistent.
"""

from __future__ import annotations

from typing import TextIO

from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate, Company, User
from advocates.services.matching_profiles import matching_profiles_refresh
from challenges import services as challenge_services
from challenges.models import Challenge, NPSResponse
from console.ams import ams_refresh_all
from referrals.services import referral_create

# email, first, last, company, title, NPS, public kinds done, referrals made
COHORT = (
    ("priya@cohort.demo.vouch", "Priya", "Shah", "Acme Health", "Director of Nursing IT", 10,
     ("social_share",), 0),
    ("marco@cohort.demo.vouch", "Marco", "Rossi", "Globex Bank", "VP Engineering", 9, (), 0),
    ("lena@cohort.demo.vouch", "Lena", "Vogel", "Initech", "Head of Platform", 10,
     ("social_share", "review"), 0),
    ("tom@cohort.demo.vouch", "Tom", "Baker", "Initech", "Engineering manager", 9,
     ("testimonial",), 1),
    ("aiko@cohort.demo.vouch", "Aiko", "Tanaka", "Acme Health", "CIO", 8,
     ("social_share", "review", "testimonial"), 2),
    ("omar@cohort.demo.vouch", "Omar", "Haddad", "Globex Bank", "IT manager", 4, (), 0),
    ("nina@cohort.demo.vouch", "Nina", "Petrova", "Globex Bank", "Data lead", 7, ("review",), 0),
    ("ben@cohort.demo.vouch", "Ben", "Adams", "Initech", "CTO", 10, (), 0),
)  # fmt: skip


def _cohort_member(email: str, first: str, last: str, company_name: str, title: str) -> Advocate:
    user = User.objects.create_user(email=email, password=None, first_name=first, last_name=last)
    company = Company.objects.filter(name=company_name).first()
    advocate = Advocate.objects.create(
        user=user,
        company=company,
        title=title,
        industry=company.industry if company else "",
        status=Advocate.Status.ACTIVE,
        joined_at=timezone.now(),
        reference_opt_in=True,
    )
    matching_profiles_refresh(advocate_ids=[advocate.pk])
    return advocate


def _load_cohort(stdout: TextIO) -> int:
    manager = User.objects.filter(email="manager@demo.vouch").first()
    challenges = {
        kind: Challenge.objects.filter(kind=kind, status=Challenge.Status.PUBLISHED).first()
        for kind in ("social_share", "review", "testimonial")
    }
    made = 0
    for email, first, last, company, title, nps, kinds, referrals in COHORT:
        if User.objects.filter(email=email).exists():
            continue
        with transaction.atomic():
            advocate = _cohort_member(email, first, last, company, title)
            NPSResponse.objects.create(advocate=advocate, score=nps, comment="")
            Advocate.objects.filter(pk=advocate.pk).update(nps_score=nps, updated_at=timezone.now())
        for kind in kinds:
            challenge = challenges.get(kind)
            if challenge is None:
                continue
            data = challenge_services.SubmissionInput(
                url="https://www.linkedin.com/posts/demo" if kind != "testimonial" else "",
                text="Vouch made our onboarding twice as fast." if kind == "testimonial" else "",
            )
            try:
                submission = challenge_services.submission_create(
                    challenge_id=challenge.pk, advocate_id=advocate.pk, data=data
                )
                if submission.status == "pending" and manager is not None:
                    challenge_services.submission_approve(
                        submission_id=submission.pk, reviewer=manager
                    )
            except (challenge_services.SubmissionRefused, challenge_services.ReviewError) as e:
                stdout.write(f"  (cohort: {email} could not complete {kind}: {e})")
        for index in range(referrals):
            referral_create(
                advocate_id=advocate.pk,
                method="email",
                referred_name=f"Colleague {index + 1} of {first}",
                referred_email=f"colleague{index + 1}.{first.lower()}@prospects-demo.example",
                notify=False,
            )
        made += 1
    return made


def load(stdout: TextIO) -> None:
    made = _load_cohort(stdout)
    changed = ams_refresh_all()
    scored = Advocate.objects.filter(ams__gt=0).count()
    stdout.write(
        f"AMS: {made} cohort advocates added, scores recomputed ({changed} changed), "
        f"{scored} advocates above 0."
    )
