"""The console's challenge list and review queue are cached program-wide (core.fragments,
issue 20): each write they show, made through its service, is on the next visit. The
clock the keys round is held mid-minute (``fragments_held``), so only the write can make
the new value show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from challenges.services import (
    SubmissionInput,
    challenge_archive,
    challenge_update,
    submission_approve,
    submission_create,
    submission_reject,
)
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.fragments import page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

MANAGE = reverse("challenges:manage")
REVIEW = reverse("challenges:review")


def test_second_visits_are_the_cached_bodies(
    advocate, manager_client, django_assert_max_num_queries
) -> None:
    SubmissionFactory(challenge=ChallengeFactory(title="Write a review"), advocate=advocate)
    for url in (MANAGE, REVIEW):
        page(manager_client, url)
        # The user with their roles; the body from the cache.
        with django_assert_max_num_queries(1):
            assert "Write a review" in page(manager_client, url)


def test_a_submission_made_shows_in_both(
    advocate, manager_client, django_capture_on_commit_callbacks
) -> None:
    challenge = ChallengeFactory(title="Write a review")
    assert "to review" not in page(manager_client, MANAGE)
    assert "Ada" not in page(manager_client, REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        submission_create(
            challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(text="Done")
        )
    assert "1 to review" in page(manager_client, MANAGE)
    assert "Ada" in page(manager_client, REVIEW)


def test_an_approval_leaves_both(
    advocate, manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    """The approval is a conditional update: no model signal, the service drops them."""
    submission = SubmissionFactory(challenge=ChallengeFactory(title="Write a review"))
    assert "1 to review" in page(manager_client, MANAGE)
    assert "Write a review" in page(manager_client, REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        submission_approve(submission_id=submission.pk, reviewer=manager)
    assert "to review" not in page(manager_client, MANAGE)
    assert "All caught up" in page(manager_client, REVIEW)


def test_a_rejection_leaves_the_queue(
    manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    submission = SubmissionFactory(challenge=ChallengeFactory(title="Write a review"))
    assert "Write a review" in page(manager_client, REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        submission_reject(submission_id=submission.pk, reviewer=manager, reason="Blurry")
    assert "All caught up" in page(manager_client, REVIEW)
    assert "to review" not in page(manager_client, MANAGE)


def test_a_challenge_edited_or_archived_shows(manager, manager_client) -> None:
    challenge = ChallengeFactory(title="Write a review")
    SubmissionFactory(challenge=challenge)
    page(manager_client, MANAGE)
    page(manager_client, REVIEW)
    challenge_update(challenge_id=challenge.pk, data={"title": "Record a video"}, by=manager)
    assert "Record a video" in page(manager_client, MANAGE)
    assert "Record a video" in page(manager_client, REVIEW)
    assert '">Archived</span>' not in page(manager_client, MANAGE)
    challenge_archive(challenge_id=challenge.pk, by=manager)  # a conditional update
    assert '">Archived</span>' in page(manager_client, MANAGE)


def test_an_advocate_renamed_shows_in_the_queue(advocate, manager_client) -> None:
    SubmissionFactory(advocate=advocate)
    assert "Ada" in page(manager_client, REVIEW)
    advocate.user.first_name = "Augusta"
    advocate.user.save()
    assert "Augusta" in page(manager_client, REVIEW)
