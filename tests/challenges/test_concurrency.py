"""Approvals and submissions under real concurrency (PostgreSQL row locks).

Ten threads, each with its own connection, wait at a barrier and then call the service
at once: the conditional update decides one approval; the advocate's row lock lets one
submission through a limit of one.
"""

from __future__ import annotations

from challenges import services
from challenges.models import Submission
from rewards.models import LedgerEntry
from tests import factories
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.concurrency import POSTGRES_RACE, run_at_once

THREADS = 10

pytestmark = POSTGRES_RACE


def test_approving_one_submission_from_ten_threads_awards_once() -> None:
    manager = factories.ManagerFactory()
    advocate = factories.AdvocateFactory()
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=75))

    outcomes = run_at_once(
        lambda i: services.submission_approve(submission_id=submission.pk, reviewer=manager)
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert LedgerEntry.objects.filter(advocate=advocate).count() == 1
    advocate.refresh_from_db()
    assert (advocate.balance, advocate.lifetime_points) == (75, 75)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED


def test_double_submitting_a_limit_one_challenge_from_ten_threads_records_one() -> None:
    advocate = factories.AdvocateFactory()
    challenge = ChallengeFactory(completion_limit=1, auto_approve=True, points=30)

    outcomes = run_at_once(
        lambda i: services.submission_create(
            challenge_id=challenge.pk,
            advocate_id=advocate.pk,
            data=services.SubmissionInput(text=f"try {i}"),
        )
    )

    created = [o for o in outcomes if isinstance(o, Submission)]
    refused = [o for o in outcomes if isinstance(o, services.SubmissionRefused)]
    assert (len(created), len(refused)) == (1, THREADS - 1), outcomes
    assert all("already completed" in str(r) for r in refused)
    assert Submission.objects.filter(advocate=advocate, challenge=challenge).count() == 1
    advocate.refresh_from_db()
    assert advocate.balance == 30
    assert LedgerEntry.objects.filter(advocate=advocate).count() == 1


def test_approve_racing_reject_leaves_a_consistent_ledger() -> None:
    manager = factories.ManagerFactory()
    advocate = factories.AdvocateFactory()
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=40))

    def decide(i: int) -> object:
        if i % 2:
            return services.submission_reject(
                submission_id=submission.pk, reviewer=manager, reason="race"
            )
        try:
            return services.submission_approve(submission_id=submission.pk, reviewer=manager)
        except services.ReviewError as refused:
            return refused

    outcomes = run_at_once(decide)
    assert not [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, services.ReviewError)
    ]
    submission.refresh_from_db()
    advocate.refresh_from_db()
    total = sum(LedgerEntry.objects.filter(advocate=advocate).values_list("amount", flat=True))
    assert advocate.balance == total
    # Whatever order they ran in, points are held only if it ended approved.
    expected = 40 if submission.status == Submission.Status.APPROVED else 0
    assert advocate.balance == expected
    assert LedgerEntry.objects.filter(advocate=advocate, amount=40).count() <= 1
