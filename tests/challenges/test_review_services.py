"""Approving and rejecting: points through the ledger, exactly once, reversed visibly."""

from __future__ import annotations

import pytest

from challenges import services
from challenges.models import Submission
from challenges.services import ReviewError
from rewards.models import LedgerEntry
from rewards.services.ledger import points_spend
from tests.challenges.factories import ChallengeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def test_approve_awards_the_points_once_however_often_it_is_called(advocate, manager) -> None:
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=120))
    for _ in range(3):
        approved = services.submission_approve(submission_id=submission.pk, reviewer=manager)
    assert approved.status == Submission.Status.APPROVED
    assert approved.reviewed_by == manager
    advocate.refresh_from_db()
    assert (advocate.balance, advocate.lifetime_points) == (120, 120)
    entry = LedgerEntry.objects.get()
    assert entry.idempotency_key == f"challenge-submission:{submission.pk}:approved"
    assert entry.source_type == "challenges.submission"
    assert entry.source_id == str(submission.pk)


def test_approve_runs_the_progress_hook_after_commit(
    advocate, manager, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    import challenges.services.progress

    seen: list[int] = []
    monkeypatch.setattr(
        challenges.services.progress, "on_activity", lambda *, advocate_id: seen.append(advocate_id)
    )
    submission = SubmissionFactory(advocate=advocate)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_approve(submission_id=submission.pk, reviewer=manager)
    assert seen == [advocate.pk]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.submission_approve(submission_id=submission.pk, reviewer=manager)
    assert callbacks == []  # an approval that changed nothing does not run it again


def test_reject_needs_a_reason_and_changes_nothing_without_one(advocate, manager) -> None:
    submission = SubmissionFactory(advocate=advocate)
    with pytest.raises(ReviewError, match="reason"):
        services.submission_reject(submission_id=submission.pk, reviewer=manager, reason="  ")
    submission.refresh_from_db()
    assert submission.status == Submission.Status.PENDING


def test_reject_pending_records_the_reason_for_the_advocate(advocate, manager) -> None:
    submission = SubmissionFactory(advocate=advocate)
    services.submission_reject(
        submission_id=submission.pk, reviewer=manager, reason="Link is broken"
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.REJECTED
    assert submission.rejection_reason == "Link is broken"
    assert not LedgerEntry.objects.exists()


def test_rejecting_an_approved_submission_reverses_the_points_visibly(advocate, manager) -> None:
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=80))
    services.submission_approve(submission_id=submission.pk, reviewer=manager)
    services.submission_reject(submission_id=submission.pk, reviewer=manager, reason="Duplicate")
    services.submission_reject(submission_id=submission.pk, reviewer=manager, reason="Again")
    advocate.refresh_from_db()
    assert (advocate.balance, advocate.lifetime_points) == (0, 0)
    award, reversal = LedgerEntry.objects.order_by("id")
    assert (award.amount, reversal.amount) == (80, -80)
    assert reversal.kind == LedgerEntry.Kind.REVERSAL
    assert reversal.reverses == award
    assert "Reversed" in reversal.reason
    submission.refresh_from_db()
    assert submission.rejection_reason == "Duplicate"


def test_approving_a_rejected_submission_is_refused(advocate, manager) -> None:
    submission = SubmissionFactory(advocate=advocate)
    services.submission_reject(submission_id=submission.pk, reviewer=manager, reason="No")
    with pytest.raises(ReviewError, match="already rejected"):
        services.submission_approve(submission_id=submission.pk, reviewer=manager)
    assert not LedgerEntry.objects.exists()


def test_rejection_after_the_points_were_spent_is_refused_and_nothing_changes(
    advocate, manager
) -> None:
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=50))
    services.submission_approve(submission_id=submission.pk, reviewer=manager)
    points_spend(advocate_id=advocate.pk, amount=40, reason="Mug", idempotency_key="spend:1")
    with pytest.raises(ReviewError, match="already spent"):
        services.submission_reject(submission_id=submission.pk, reviewer=manager, reason="Fake")
    submission.refresh_from_db()
    advocate.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED
    assert advocate.balance == 10
    assert LedgerEntry.objects.count() == 2


def test_bulk_approve_and_reject(advocate, other_advocate, manager) -> None:
    a = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=10))
    b = SubmissionFactory(advocate=other_advocate, challenge=ChallengeFactory(points=20))
    c = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=30))
    services.submission_reject(submission_id=c.pk, reviewer=manager, reason="No")
    result = services.submissions_bulk_approve(
        submission_ids=[a.pk, b.pk, c.pk, a.pk], reviewer=manager
    )
    assert result.done == [a.pk, b.pk]
    assert list(result.failed) == [c.pk]
    assert LedgerEntry.objects.count() == 2

    with pytest.raises(ReviewError):
        services.submissions_bulk_reject(submission_ids=[a.pk], reviewer=manager, reason="")
    result = services.submissions_bulk_reject(
        submission_ids=[a.pk, b.pk], reviewer=manager, reason="Policy"
    )
    assert result.done == [a.pk, b.pk]
    advocate.refresh_from_db()
    other_advocate.refresh_from_db()
    assert advocate.balance == 0
    assert other_advocate.balance == 0
