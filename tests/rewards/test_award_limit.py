"""No single award pays more than the program's maximum points per event, on any path."""

from __future__ import annotations

import pytest
from django.urls import reverse

from challenges.models import Submission
from challenges.services import SubmissionInput, submission_create
from core.models import ProgramSettings
from rewards.models import LedgerEntry
from rewards.services.ledger import AwardTooLarge, points_award
from tests.challenges.factories import ChallengeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

TOO_LARGE = (
    "An award of 1,000,001 points is above the program's maximum of 1,000,000 points per "
    "event (a manager can change it in the program settings)."
)


def _lower_limit(points: int) -> None:
    program = ProgramSettings.load()
    program.max_points_per_event = points
    program.save()


def test_an_award_above_the_maximum_is_refused_and_changes_nothing(advocate):
    with pytest.raises(AwardTooLarge) as refused:
        points_award(advocate_id=advocate.pk, amount=1_000_001, reason="x", idempotency_key="k")
    assert str(refused.value) == TOO_LARGE
    advocate.refresh_from_db()
    assert (advocate.balance, advocate.lifetime_points) == (0, 0)
    assert not LedgerEntry.objects.exists()
    points_award(advocate_id=advocate.pk, amount=1_000_000, reason="x", idempotency_key="k")
    advocate.refresh_from_db()
    assert advocate.balance == 1_000_000


def test_approving_a_challenge_above_a_lowered_maximum_shows_why(advocate, manager_client):
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=500))
    _lower_limit(400)
    response = manager_client.post(
        reverse("challenges:review_decide", args=[submission.pk]),
        {"action": "approve"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "An award of 500 points is above the program&#x27;s maximum of 400" in (
        response.content.decode()
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_bulk_approval_reports_the_refused_one_and_approves_the_rest(
    advocate, other_advocate, manager_client
):
    small = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=100))
    big = SubmissionFactory(advocate=other_advocate, challenge=ChallengeFactory(points=500))
    _lower_limit(400)
    response = manager_client.post(
        reverse("challenges:review_bulk"),
        {"ids": [small.pk, big.pk], "action": "approve"},
        follow=True,
    )
    body = response.content.decode()
    assert "Approved 1 submission(s)." in body
    assert f"Submission #{big.pk}: An award of 500 points is above" in body
    assert list(LedgerEntry.objects.values_list("amount", flat=True)) == [100]


def test_an_auto_approved_submission_above_the_maximum_waits_for_review(advocate):
    challenge = ChallengeFactory(points=500, auto_approve=True)
    _lower_limit(400)
    submission = submission_create(
        challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(text="Done")
    )
    assert submission.status == Submission.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_challenge_cannot_promise_more_than_the_maximum(manager_client):
    _lower_limit(400)
    response = manager_client.post(
        reverse("challenges:create"),
        {
            "title": "Review us",
            "description": "Tell peers.",
            "kind": "review",
            "points": "401",
            "starts_at": "2026-01-01T09:00",
            "audience": "everyone",
            "completion_limit": "1",
            "target_url": "https://www.g2.com/",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["points"] == [
        "401 points is above the program's maximum of 400 points per event (set in the "
        "program settings)."
    ]
