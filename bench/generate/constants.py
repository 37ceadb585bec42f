"""The benchmark program's logins and vocabulary (names, titles, mixes of stages)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from advocates.models import (
    Company,
)
from challenges.models import Challenge
from references.models import ReferenceRequest
from referrals.models import (
    Method,
    Stage,
)
from rewards.models import Reward

Row = tuple[Any, ...]
BENCH_PASSWORD = "vouch-bench-2026"  # noqa: S105 - printed for the benchmark on purpose
# Managers must use two-factor authentication (core.mfa): the bench manager's
# authenticator app has this fixed secret, so a load test can compute its codes.
BENCH_TOTP_SECRET = "VOUCHBENCHVOUCHBENCHVOUCHBENCH23"  # noqa: S105 - documented bench secret
MANAGER_EMAIL = "bench-manager@bench.vouch"
REP_EMAIL = "bench-rep@bench.vouch"
ADVOCATE_EMAIL = "bench-advocate@bench.vouch"

INDUSTRIES = [
    "Healthcare",
    "Financial services",
    "Software",
    "Retail",
    "Manufacturing",
    "Education",
    "Logistics",
    "Media",
    "Energy",
    "Public sector",
]
PRODUCTS = ["Analytics", "Automation", "Integrations", "Mobile", "Security", "Billing"]
TAGS = [
    "Fast onboarding",
    "Ease of use",
    "Great support",
    "ROI in 90 days",
    "Migration",
    "Scale",
    "Compliance",
    "Reporting",
    "API",
    "Training",
]
TITLES = {
    "individual": ["Analyst", "Engineer", "Specialist", "Consultant"],
    "manager": ["Engineering manager", "IT manager", "Operations manager"],
    "director": ["Director of IT", "Head of Operations", "Director of Finance"],
    "vp": ["VP Operations", "VP Engineering", "VP Sales"],
    "c_level": ["CIO", "CTO", "COO", "CFO"],
}
FIRST = ["Ada", "Ben", "Chloe", "Dan", "Eva", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kai", "Lea"]
LAST = ["Smith", "Okafor", "Lee", "Garcia", "Novak", "Khan", "Rossi", "Berg", "Silva", "Tanaka"]
SIZE_BANDS = [c.value for c in Company.SizeBand]
CHALLENGE_KINDS = [c.value for c in Challenge.Kind]
REWARD_KINDS = [c.value for c in Reward.Kind]
METHODS = [c.value for c in Method]
# Referral stage mix: (final stage, path of stages reached after "submitted").
STAGE_MIX = [
    (Stage.SUBMITTED, [], 30),
    (Stage.QUALIFIED, [Stage.QUALIFIED], 20),
    (Stage.OPPORTUNITY, [Stage.QUALIFIED, Stage.OPPORTUNITY], 15),
    (Stage.WON, [Stage.QUALIFIED, Stage.OPPORTUNITY, Stage.WON], 12),
    (Stage.LOST, [Stage.QUALIFIED, Stage.LOST], 13),
    (Stage.REJECTED, [Stage.REJECTED], 10),
]
REQUEST_MIX = [
    (ReferenceRequest.Status.OPEN, 15),
    (ReferenceRequest.Status.NEEDS_REP, 5),
    (ReferenceRequest.Status.COMPLETED, 60),
    (ReferenceRequest.Status.NO_SHOW, 5),
    (ReferenceRequest.Status.CANCELLED, 15),
]


def weighted(rng: random.Random, mix: Sequence[tuple]) -> tuple:
    return rng.choices(mix, weights=[row[-1] for row in mix])[0]
