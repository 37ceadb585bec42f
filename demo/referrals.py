"""Demo referrals: a reward rule, links, and a few referrals along the pipeline.

Idempotent: the referrals carry external ids and are made only when missing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from django.utils import timezone

from advocates.models import Advocate
from referrals.models import Method, Referral, ReferralStageChange, RewardRule, Stage
from referrals.services import referral_advance, referral_create, referral_link_for

DEMO = [
    # external id, advocate, name, email, company, method, days ago, stages, amount
    (
        "demo-1",
        "advocate@demo.vouch",
        "Priya Natarajan",
        "priya@northwind.example",
        "Northwind",
        Method.LEAD_FORM,
        40,
        ["qualified", "opportunity", "won"],
        "24000.00",
    ),
    (
        "demo-2",
        "advocate@demo.vouch",
        "Tom Becker",
        "tom@contoso.example",
        "Contoso",
        Method.EMAIL,
        20,
        ["qualified"],
        None,
    ),
    (
        "demo-3",
        "advocate@demo.vouch",
        "Lena Park",
        "lena@fabrikam.example",
        "Fabrikam",
        Method.SHAREABLE_LINK,
        6,
        [],
        None,
    ),
    (
        "demo-4",
        "dana@demo.vouch",
        "Marco Rossi",
        "marco@umbrella.example",
        "Umbrella",
        Method.VERBAL,
        30,
        ["qualified", "lost"],
        None,
    ),
    (
        "demo-5",
        "sam@demo.vouch",
        "Aiko Tanaka",
        "aiko@tailspin.example",
        "Tailspin",
        Method.SOCIAL,
        3,
        [],
        None,
    ),
]


def load(stdout: TextIO) -> None:
    if not RewardRule.objects.exists():
        RewardRule.objects.create(
            name="Program rule: 2% of the deal, up to 1,000 points",
            kind=RewardRule.Kind.PERCENT,
            percent=Decimal(2),
            cap_points=1000,
            qualified_points=50,
            # Seed 003's escalating incentives and seed 001's referral chains.
            count_tiers=[{"min_won": 3, "multiplier": "1.5"}, {"min_won": 6, "multiplier": "2"}],
            second_generation_points=100,
        )
    for demo_advocate in Advocate.objects.filter(user__email__endswith="@demo.vouch"):
        referral_link_for(advocate_id=demo_advocate.pk)
    made = 0
    for external_id, email, name, referred, company, method, days, stages, amount in DEMO:
        if Referral.objects.filter(external_id=external_id).exists():
            continue
        advocate = Advocate.objects.filter(user__email=email).first()
        if advocate is None:
            continue
        created = timezone.now() - timedelta(days=days)
        referral = referral_create(
            advocate_id=advocate.pk,
            method=method,
            referred_name=name,
            referred_email=referred,
            referred_company=company,
            external_id=external_id,
            created_at=created,
            source=ReferralStageChange.Source.IMPORT,
            notify=False,
        )
        for step, stage in enumerate(stages, start=1):
            referral_advance(
                referral_id=referral.pk,
                stage=stage,
                amount=Decimal(amount) if amount and stage == Stage.WON else None,
                occurred_at=created + timedelta(days=step * max(days // (len(stages) + 1), 1)),
                source=ReferralStageChange.Source.IMPORT,
            )
        made += 1
    if made:
        stdout.write(f"Referrals: {made} demo referral(s) and a reward rule.")
