"""The console home's body is cached (core.fragments, issue 20) under the queues it shows
live and the version and time of its charts: each queue's write, made through its
service, is on the next visit. The clock the keys round is held mid-minute
(``fragments_held``), so only the write can make the new value show."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from challenges.services import submission_approve
from console.selectors.home import CHARTS_CACHE_KEY
from references.models import Ask, ReferenceRequest
from references.services import call_record
from rewards.services import catalog
from tests.challenges.factories import SubmissionFactory
from tests.references.factories import AskFactory
from tests.rewards.factories import RewardFactory, redeem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

URL = reverse("console:home")


def cards(client) -> dict[str, str]:
    """Each card's label and value."""
    response = client.get(URL)
    assert response.status_code == 200
    found = re.findall(
        r'stat__label">([^<]+)</span>\s*<span class="stat__value">([^<]+)</span>',
        response.content.decode(),
    )
    return dict(found)


def test_a_second_visit_is_the_cached_body(manager_client, django_assert_max_num_queries) -> None:
    cards(manager_client)
    # The user with their roles; the charts and the body from the cache.
    with django_assert_max_num_queries(1):
        assert cards(manager_client)["Pending reviews"] == "0"


def test_a_review_decided_shows(manager, manager_client, django_capture_on_commit_callbacks):
    """The approval is a conditional update: no model signal, the service drops it."""
    submission = SubmissionFactory()
    assert cards(manager_client)["Pending reviews"] == "1"
    with django_capture_on_commit_callbacks(execute=True):
        submission_approve(submission_id=submission.pk, reviewer=manager)
    assert cards(manager_client)["Pending reviews"] == "0"


def test_a_redemption_fulfilled_shows(
    advocate, manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(advocate, RewardFactory())
    assert cards(manager_client)["Pending redemptions"] == "1"
    with django_capture_on_commit_callbacks(execute=True):
        catalog.redemption_fulfil(redemption_id=redemption.pk, note="Sent", by=manager)
    assert cards(manager_client)["Pending redemptions"] == "0"


def test_a_reference_call_done_shows(rep, manager_client, django_capture_on_commit_callbacks):
    ask = AskFactory(
        status=Ask.Status.ACCEPTED,
        request__rep=rep,
        request__status=ReferenceRequest.Status.SCHEDULED,
    )
    assert cards(manager_client)["Open reference requests"] == "1"
    with django_capture_on_commit_callbacks(execute=True):
        call_record(request=ask.request, completed=True)
    assert cards(manager_client)["Open reference requests"] == "0"


def test_charts_computed_again_show(manager_client) -> None:
    before = cards(manager_client)["Enrolled advocates"]
    assert before == "0"
    SubmissionFactory()  # an advocate: the charts count them when computed again
    cache.delete(CHARTS_CACHE_KEY)
    assert cards(manager_client)["Enrolled advocates"] == "1"
