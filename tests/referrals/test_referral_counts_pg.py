"""Races on PostgreSQL: the referral count stays a true count while referrals of one
advocate are submitted and rejected at the same instant (advocates.services.summary)."""

from __future__ import annotations

from referrals.models import Method, RejectionReason, Stage
from referrals.services import referral_advance, referral_create
from tests.concurrency import POSTGRES_RACE, run_at_once
from tests.referrals.factories import ReferralFactory

pytestmark = POSTGRES_RACE


def test_concurrent_rejections_and_submissions_keep_the_count(owned_advocate, rep) -> None:
    existing = [
        ReferralFactory(advocate=owned_advocate, referred_email=f"old{i}@old{i}.example")
        for i in range(4)
    ]

    def work(i: int) -> object:
        if i < len(existing):
            return referral_advance(
                referral_id=existing[i].pk,
                stage=Stage.REJECTED,
                reason=RejectionReason.INVALID,
                actor=rep,
            )
        return referral_create(
            advocate_id=owned_advocate.pk,
            method=Method.LEAD_FORM,
            referred_name="New Lead",
            referred_email=f"new{i}@new{i}.example",
        )

    results = run_at_once(work, threads=8)
    assert not [r for r in results if isinstance(r, Exception)], results
    owned_advocate.refresh_from_db()
    assert owned_advocate.referral_count == 4  # the four new ones; the old ones rejected
