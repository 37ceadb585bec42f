"""The managers' review queue: evidence, one-by-one decisions (htmx or not), bulk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from challenges.models import Challenge, NPSResponse, Submission
from rewards.models import LedgerEntry
from tests.challenges.factories import ChallengeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def test_queue_lists_pending_oldest_first_with_the_evidence(
    advocate, other_advocate, manager_client
) -> None:
    now = timezone.now()
    newer = SubmissionFactory(advocate=advocate, text="Newer words", created_at=now)
    older = SubmissionFactory(
        advocate=other_advocate,
        url="https://g2.example/review/9",
        text="",
        created_at=now - timedelta(days=2),
        answers={"questions": [{"label": "What next?", "answer": "Dark mode"}]},
    )
    SubmissionFactory(status=Submission.Status.APPROVED, text="Approved words")
    response = manager_client.get(reverse("challenges:review"))
    assert list(response.context["page"].object_list) == [older, newer]
    html = response.content.decode()
    assert html.index(f'id="submission-{older.pk}"') < html.index(f'id="submission-{newer.pk}"')
    assert (
        'href="https://g2.example/review/9" target="_blank" rel="noopener noreferrer nofollow"'
        in html
    )
    assert "Newer words" in html
    assert "What next?" in html
    assert "Dark mode" in html
    assert "Approved words" not in html


def test_queue_shows_an_image_thumbnail(advocate, manager_client) -> None:
    from challenges.services import SubmissionInput, submission_create
    from tests.challenges.test_submission_services import png_upload

    challenge = ChallengeFactory(kind=Challenge.Kind.UPLOAD)
    submission = submission_create(
        challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(image=png_upload())
    )
    html = manager_client.get(reverse("challenges:review")).content.decode()
    assert f'src="{submission.image.url}"' in html


def test_approve_with_htmx_swaps_the_row_and_awards_once(
    advocate, manager_client, htmx_headers
) -> None:
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=60))
    url = reverse("challenges:review_decide", args=[submission.pk])
    for _ in range(2):  # a double click
        response = manager_client.post(url, {"action": "approve"}, **htmx_headers)
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="submission-{submission.pk}"' in html
    assert "Approved." in html
    advocate.refresh_from_db()
    assert advocate.balance == 60
    assert LedgerEntry.objects.count() == 1


def _waiting_header(html: str) -> str:
    found = re.search(r'<p [^>]*id="review-waiting"[^>]*>.*?</p>', html, re.DOTALL)
    assert found, "no review-waiting header in the response"
    return found[0]


def test_an_inline_decision_updates_the_waiting_count_in_the_header(
    manager_client, htmx_headers
) -> None:
    first, second, third = SubmissionFactory.create_batch(3)
    decide = [reverse("challenges:review_decide", args=[s.pk]) for s in (first, second, third)]

    html = manager_client.post(decide[0], {"action": "approve"}, **htmx_headers).content.decode()
    assert f'id="submission-{first.pk}"' in html  # the row, swapped in place
    header = _waiting_header(html)
    assert 'hx-swap-oob="true"' in header
    assert "2 submissions waiting" in header
    html = manager_client.post(
        decide[1], {"action": "reject", "reason": "No link"}, **htmx_headers
    ).content.decode()
    assert "1 submission waiting" in _waiting_header(html)
    html = manager_client.post(decide[2], {"action": "approve"}, **htmx_headers).content.decode()
    assert "0 submissions waiting" in _waiting_header(html)
    # The page carries the element the out-of-band swap replaces.
    SubmissionFactory()
    page = manager_client.get(reverse("challenges:review")).content.decode()
    assert "1 submission waiting" in _waiting_header(page)


def test_reject_without_javascript_redirects_and_the_advocate_sees_the_reason(
    advocate, manager_client, advocate_client
) -> None:
    submission = SubmissionFactory(advocate=advocate)
    response = manager_client.post(
        reverse("challenges:review_decide", args=[submission.pk]),
        {"action": "reject", "reason": "The link does not open", "page": "1"},
    )
    assert response.status_code == 302
    assert response.url == reverse("challenges:review") + "?page=1"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.REJECTED
    assert (
        "The link does not open" in advocate_client.get(reverse("challenges:list")).content.decode()
    )


def test_reject_without_a_reason_shows_an_error_and_changes_nothing(
    advocate, manager_client, htmx_headers
) -> None:
    submission = SubmissionFactory(advocate=advocate)
    response = manager_client.post(
        reverse("challenges:review_decide", args=[submission.pk]),
        {"action": "reject"},
        **htmx_headers,
    )
    assert "Give a reason" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.PENDING


def test_decide_needs_a_known_action_and_submission(manager_client) -> None:
    submission = SubmissionFactory()
    url = reverse("challenges:review_decide", args=[submission.pk])
    assert manager_client.post(url, {"action": "delete"}).status_code == 400
    missing = reverse("challenges:review_decide", args=[submission.pk + 100])
    assert manager_client.post(missing, {"action": "approve"}).status_code == 404


def test_bulk_approve_and_reject(advocate, other_advocate, manager_client) -> None:
    a = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=10))
    b = SubmissionFactory(advocate=other_advocate, challenge=ChallengeFactory(points=20))
    c = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(points=30))
    url = reverse("challenges:review_bulk")
    response = manager_client.post(url, {"ids": [a.pk, b.pk], "action": "approve"}, follow=True)
    assert "Approved 2 submission(s)." in response.content.decode()
    response = manager_client.post(url, {"ids": [c.pk], "action": "reject"}, follow=True)
    assert "Give a reason" in response.content.decode()
    c.refresh_from_db()
    assert c.status == Submission.Status.PENDING
    manager_client.post(url, {"ids": [c.pk], "action": "reject", "reason": "Off topic"})
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "approved", b.pk: "approved", c.pk: "rejected"}
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [10, 20]


def test_bulk_with_nothing_ticked(manager_client) -> None:
    response = manager_client.post(
        reverse("challenges:review_bulk"), {"action": "approve"}, follow=True
    )
    assert "Tick the submissions" in response.content.decode()


def test_queue_query_count_does_not_grow_with_rows(
    manager_client, django_assert_max_num_queries
) -> None:
    survey = ChallengeFactory(kind=Challenge.Kind.SURVEY, completion_limit=50)
    for n in range(30):
        submission = SubmissionFactory(challenge=survey if n % 2 else ChallengeFactory())
        if n % 2:
            NPSResponse.objects.create(advocate=submission.advocate, score=8, submission=submission)
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("challenges:review"))
    assert len(response.context["page"].object_list) == 20
    assert response.context["page"].paginator.count == 30


def test_advocates_cannot_review(advocate_client) -> None:
    submission = SubmissionFactory()
    url = reverse("challenges:review_decide", args=[submission.pk])
    assert advocate_client.post(url, {"action": "approve"}).status_code == 403
    assert advocate_client.get(reverse("challenges:review")).status_code == 403
    submission.refresh_from_db()
    assert submission.status == Submission.Status.PENDING


def test_a_long_queue_is_counted_up_to_the_cap(monkeypatch, manager_client) -> None:
    from challenges import selectors

    challenge = ChallengeFactory()
    for _ in range(5):
        SubmissionFactory(challenge=challenge)
    monkeypatch.setattr(selectors, "REVIEW_COUNT_CAP", 3)
    url = reverse("challenges:review")

    response = manager_client.get(url)

    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.more) == (3, True)
    assert "3+ submissions waiting" in response.content.decode()
    monkeypatch.setattr(selectors, "REVIEW_COUNT_CAP", 5)
    # The cap is code: a deploy changes it, not a write. The cached body is dropped here
    # as every fragment is after at most a minute.
    cache.clear()
    response = manager_client.get(url)
    assert "5 submissions waiting" in response.content.decode()
    assert response.context["page"].paginator.more is False
