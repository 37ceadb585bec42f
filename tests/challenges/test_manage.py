"""Managers create, edit, schedule, publish and archive challenges."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from challenges.forms import NPS_QUESTION
from challenges.models import Challenge
from tests.challenges.factories import ChallengeFactory, LevelFactory, SubmissionFactory
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides: object) -> dict:
    data = {
        "title": "Review us on G2",
        "description": "Tell peers what you think.",
        "kind": Challenge.Kind.REVIEW,
        "points": "200",
        "starts_at": "2026-01-01T09:00",
        "ends_at": "2099-01-31T17:00",
        "audience": Challenge.Audience.EVERYONE,
        "completion_limit": "1",
        "target_url": "https://www.g2.com/",
        "publish": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_and_publish_with_manual_review(manager, manager_client) -> None:
    response = manager_client.post(reverse("challenges:create"), form_data())
    assert response.status_code == 302
    challenge = Challenge.objects.get()
    assert challenge.status == Challenge.Status.PUBLISHED
    assert challenge.auto_approve is False
    assert challenge.points == 200
    assert challenge.created_by == manager
    assert challenge.ends_at.year == 2099


def test_save_as_draft(manager_client) -> None:
    data = form_data(publish=None, save="1")
    manager_client.post(reverse("challenges:create"), data)
    assert Challenge.objects.get().status == Challenge.Status.DRAFT


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ends_at": "2025-12-31T09:00"}, "ends_at", "The end must be after the start."),
        ({"points": "0"}, "points", "Points must be more than 0."),
        ({"audience": "tag"}, "audience_tag", "Choose the tag"),
        ({"audience": "level"}, "audience_level", "Choose the lowest level"),
        ({"kind": "survey"}, "survey_questions", "A survey needs a question"),
        ({"kind": "event"}, "event_at", "Give the event's date and time."),
        ({"completion_limit": "0"}, "completion_limit", "at least once"),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_validation_gives_a_clear_message_and_creates_nothing(
    manager_client, overrides, field, message
) -> None:
    response = manager_client.post(reverse("challenges:create"), form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert not Challenge.objects.exists()


def test_survey_questions_and_nps(manager_client) -> None:
    data = form_data(
        kind="survey", survey_questions="What next?\n\nWhy us?", include_nps="on", target_url=""
    )
    manager_client.post(reverse("challenges:create"), data)
    assert Challenge.objects.get().questions == [
        {"label": NPS_QUESTION, "kind": "nps"},
        {"label": "What next?", "kind": "text"},
        {"label": "Why us?", "kind": "text"},
    ]


def test_audience_by_tag_or_level(manager_client) -> None:
    tag = TagFactory(name="ROI in 90 days")
    level = LevelFactory(name="Champion", threshold=2000)
    manager_client.post(
        reverse("challenges:create"),
        form_data(audience="tag", audience_tag=tag.pk, audience_level=level.pk),
    )
    challenge = Challenge.objects.get()
    assert challenge.audience_tag == tag
    assert challenge.audience_level is None  # only the chosen audience is kept


def test_edit_reschedules(manager_client) -> None:
    challenge = ChallengeFactory(kind=Challenge.Kind.REVIEW, points=10)
    url = reverse("challenges:edit", args=[challenge.pk])
    assert challenge.title in manager_client.get(url).content.decode()
    response = manager_client.post(
        url, form_data(points="15", ends_at="2099-06-01T12:00", save="1")
    )
    assert response.status_code == 302
    challenge.refresh_from_db()
    assert challenge.points == 15
    assert challenge.ends_at.month == 6


def test_edit_cannot_change_the_type_once_advocates_completed_it(manager_client) -> None:
    challenge = ChallengeFactory(kind=Challenge.Kind.TESTIMONIAL)
    SubmissionFactory(challenge=challenge)
    response = manager_client.post(
        reverse("challenges:edit", args=[challenge.pk]), form_data(kind="review", save="1")
    )
    assert "type cannot change" in response.content.decode()
    challenge.refresh_from_db()
    assert challenge.kind == Challenge.Kind.TESTIMONIAL


def test_publish_a_draft(manager_client) -> None:
    challenge = ChallengeFactory(status=Challenge.Status.DRAFT)
    manager_client.post(reverse("challenges:publish", args=[challenge.pk]))
    challenge.refresh_from_db()
    assert challenge.status == Challenge.Status.PUBLISHED


def test_archive_asks_first_then_archives(manager_client) -> None:
    challenge = ChallengeFactory()
    SubmissionFactory(challenge=challenge)
    url = reverse("challenges:archive", args=[challenge.pk])
    page = manager_client.get(url).content.decode()
    assert "Archive it" in page
    assert "1 submission still waits for review" in page
    challenge.refresh_from_db()
    assert challenge.status == Challenge.Status.PUBLISHED  # GET changed nothing
    manager_client.post(url)
    challenge.refresh_from_db()
    assert challenge.status == Challenge.Status.ARCHIVED


def test_manage_list_filters_by_status(manager_client, htmx_headers) -> None:
    ChallengeFactory(title="Live one")
    ChallengeFactory(title="Draft one", status=Challenge.Status.DRAFT)
    url = reverse("challenges:manage")
    html = manager_client.get(url, {"status": "draft"}).content.decode()
    assert "Draft one" in html
    assert "Live one" not in html
    fragment = manager_client.get(url, {"status": "published"}, **htmx_headers).content.decode()
    assert "<html" not in fragment
    assert "Live one" in fragment
    assert "Draft one" not in fragment


def test_manage_list_query_count_does_not_grow(
    manager_client, django_assert_max_num_queries
) -> None:
    tag = TagFactory()
    for _n in range(30):
        challenge = ChallengeFactory(audience=Challenge.Audience.TAG, audience_tag=tag)
        SubmissionFactory(challenge=challenge)
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("challenges:manage"))
    assert len(response.context["page"].object_list) == 25


def test_manage_list_counts_submissions_of_the_page_only(manager_client) -> None:
    busy = ChallengeFactory(title="Busy one")
    for status in ("pending", "pending", "approved", "rejected"):
        SubmissionFactory(challenge=busy, status=status)
    done = ChallengeFactory(title="Reviewed one")
    SubmissionFactory(challenge=done, status="approved")
    ChallengeFactory(title="Quiet one")
    with CaptureQueriesContext(connection) as captured:
        response = manager_client.get(reverse("challenges:manage"))
    rows = {c.title: (counts.total, counts.pending) for c, counts in response.context["rows"]}
    assert rows == {"Busy one": (4, 2), "Reviewed one": (1, 0), "Quiet one": (0, 0)}
    html = response.content.decode()
    assert "2 to review" in html
    assert html.count("to review</a>") == 1
    assert "3 challenges" in html
    # The paginator counts challenges alone; submissions are counted once, for the page.
    sqls = [q["sql"] for q in captured.captured_queries]
    counts = [sql for sql in sqls if "COUNT(*)" in sql and "challenges_challenge" in sql]
    assert counts
    assert all("challenges_submission" not in sql for sql in counts)
    on_submissions = [sql for sql in sqls if 'FROM "challenges_submission"' in sql]
    assert len(on_submissions) == 1
    assert str(busy.pk) in on_submissions[0]
    assert " IN (" in on_submissions[0]


def test_manage_list_page_two_counts_its_own_challenges(manager_client) -> None:
    for n in range(26):
        challenge = ChallengeFactory(title=f"Run {n}")
        SubmissionFactory(challenge=challenge, status="pending")
    response = manager_client.get(reverse("challenges:manage"), {"page": "2"})
    rows = response.context["rows"]
    assert len(rows) == 1
    assert rows[0][1].total == 1
    assert rows[0][1].pending == 1
    assert response.context["page"].paginator.count == 26


def test_manage_list_counts_stay_correct_through_the_services(
    advocate, manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    from challenges.services import (
        SubmissionInput,
        submission_approve,
        submission_create,
        submission_reject,
    )

    challenge = ChallengeFactory(title="Counted", completion_limit=3)
    url = reverse("challenges:manage")

    def counts() -> tuple[int, int]:
        rows = manager_client.get(url).context["rows"]
        return next((n.total, n.pending) for c, n in rows if c.pk == challenge.pk)

    assert counts() == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        first = submission_create(
            challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(text="a")
        )
    assert counts() == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        second = submission_create(
            challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(text="b")
        )
    assert counts() == (2, 2)
    with django_capture_on_commit_callbacks(execute=True):
        submission_approve(submission_id=first.pk, reviewer=manager)
    assert counts() == (2, 1)
    with django_capture_on_commit_callbacks(execute=True):
        submission_reject(submission_id=second.pk, reviewer=manager, reason="Off topic")
    assert counts() == (2, 0)


def test_manage_list_counts_come_from_the_cache_between_changes(manager_client) -> None:
    from django.core.cache import cache

    challenge = ChallengeFactory(title="Cached")
    SubmissionFactory(challenge=challenge)
    url = reverse("challenges:manage")
    manager_client.get(url)
    SubmissionFactory(challenge=challenge)  # bypasses the services: nobody forgets the entry

    with CaptureQueriesContext(connection) as captured:
        response = manager_client.get(url)

    assert response.context["rows"][0][1].total == 1  # the cached figure, for a minute
    assert not [q for q in captured.captured_queries if "challenges_submission" in q["sql"]]
    cache.clear()
    assert manager_client.get(url).context["rows"][0][1].total == 2
