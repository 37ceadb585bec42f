"""The demo challenges load once: running the loader again changes nothing."""

from __future__ import annotations

import io

import pytest

from challenges.models import Challenge, NPSResponse, Submission
from demo import challenges as demo
from rewards.models import LedgerEntry
from tests.factories import AdvocateFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Challenge.objects.count(),
        Submission.objects.count(),
        NPSResponse.objects.count(),
        LedgerEntry.objects.count(),
    )


def test_demo_is_varied_has_a_pending_review_and_is_idempotent() -> None:
    ManagerFactory(email="manager@demo.vouch")
    dana = AdvocateFactory(user__email="dana@demo.vouch")
    AdvocateFactory(user__email="sam@demo.vouch")
    demo.load(io.StringIO())
    first = counts()
    demo.load(io.StringIO())
    assert counts() == first
    kinds = set(Challenge.objects.values_list("kind", flat=True))
    assert {"social_share", "review", "testimonial", "survey", "event"} <= kinds
    assert Challenge.objects.filter(status="published").count() == Challenge.objects.count() >= 5
    assert Challenge.objects.filter(kind="review", auto_approve=False).exists()
    pending = Submission.objects.get(status="pending")
    assert pending.advocate == dana
    assert NPSResponse.objects.count() == 2
