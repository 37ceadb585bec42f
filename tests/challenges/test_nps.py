"""The program's NPS over a period, and an advocate's latest score for managers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges.models import Submission
from challenges.selectors import nps_summary
from tests.challenges.factories import NPSResponseFactory, SubmissionFactory
from tests.factories import AdvocateFactory

pytestmark = pytest.mark.django_db


def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


def test_nps_is_promoters_minus_detractors_one_answer_per_advocate() -> None:
    day = date(2026, 5, 10)
    for score in (10, 9, 9, 8, 7, 6, 3, 0):
        NPSResponseFactory(score=score, created_at=at(day))
    # An earlier answer from the same advocate is replaced by their latest one.
    changed = AdvocateFactory()
    NPSResponseFactory(advocate=changed, score=2, created_at=at(day - timedelta(days=1)))
    NPSResponseFactory(advocate=changed, score=10, created_at=at(day))
    summary = nps_summary(start=day - timedelta(days=5), end=day)
    assert (summary.promoters, summary.passives, summary.detractors) == (4, 2, 3)
    assert summary.total == 9
    assert summary.score == round((4 - 3) * 100 / 9)  # 11


def test_period_bounds_are_whole_days_and_rejected_answers_do_not_count() -> None:
    day = date(2026, 5, 10)
    NPSResponseFactory(score=10, created_at=at(day - timedelta(days=1)))  # before
    NPSResponseFactory(score=0, created_at=at(day + timedelta(days=1)))  # after
    NPSResponseFactory(score=9, created_at=at(day))
    rejected = SubmissionFactory(status=Submission.Status.REJECTED)
    NPSResponseFactory(score=0, advocate=rejected.advocate, submission=rejected, created_at=at(day))
    summary = nps_summary(start=day, end=day)
    assert (summary.promoters, summary.detractors, summary.score) == (1, 0, 100)
    assert nps_summary(start=date(2020, 1, 1), end=date(2020, 1, 2)).score is None


def test_nps_page_defaults_to_the_last_90_days(manager_client) -> None:
    today = timezone.localdate()
    NPSResponseFactory(score=10)
    NPSResponseFactory(score=4, created_at=timezone.now() - timedelta(days=120))
    response = manager_client.get(reverse("challenges:nps"))
    summary = response.context["summary"]
    assert (summary.start, summary.end) == (today - timedelta(days=89), today)
    assert (summary.promoters, summary.detractors) == (1, 0)
    html = response.content.decode()
    assert "+100" in html
    assert "Promoters (9–10)" in html


def test_nps_page_with_a_chosen_period(manager_client) -> None:
    NPSResponseFactory(score=4, created_at=at(date(2026, 1, 15)))
    response = manager_client.get(
        reverse("challenges:nps"), {"start": "2026-01-01", "end": "2026-01-31"}
    )
    summary = response.context["summary"]
    assert (summary.detractors, summary.score) == (1, -100)
    assert "−100" in response.content.decode() or "-100" in response.content.decode()


def test_nps_page_with_the_end_before_the_start_says_so(manager_client) -> None:
    response = manager_client.get(
        reverse("challenges:nps"), {"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert "The end must be on or after the start." in response.content.decode()


def test_latest_score_on_the_advocate_page_for_managers_only(
    advocate, manager_client, rep_client
) -> None:
    NPSResponseFactory(advocate=advocate, score=3, created_at=timezone.now() - timedelta(days=30))
    NPSResponseFactory(advocate=advocate, score=9, comment="Much better now")
    url = reverse("advocates:detail", args=[advocate.pk])
    html = manager_client.get(url).content.decode()
    assert "Latest NPS answer" in html
    assert "Much better now" in html
    assert "Promoter" in html
    assert "Latest NPS answer" not in rep_client.get(url).content.decode()


def test_nps_page_with_the_last_possible_end_date_is_a_form_error(manager_client) -> None:
    from django.urls import reverse

    response = manager_client.get(
        reverse("challenges:nps"), {"start": "2026-01-01", "end": "9999-12-31"}
    )
    assert response.status_code == 200
    assert "before the year 9999" in response.content.decode()
