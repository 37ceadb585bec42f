"""AMS weights per industry: an industry's own set, falling back to the program's."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from advocates.services import advocate_profile_update
from challenges.models import Challenge, Submission
from console import ams
from console.ams import DEFAULT_WEIGHTS, ams_refresh, ams_refresh_all
from console.models import AmsIndustryWeights
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.factories import AdvocateFactory

pytestmark = pytest.mark.django_db


def _reviewer(industry: str) -> Advocate:
    """An advocate with two approved reviews: 40 public points under the defaults."""
    advocate = AdvocateFactory(industry=industry)
    challenge = ChallengeFactory(kind=Challenge.Kind.REVIEW)
    for _ in range(2):
        SubmissionFactory(challenge=challenge, advocate=advocate, status=Submission.Status.APPROVED)
    return advocate


def _form_data(industry: str, **changes) -> dict:
    data = {key: str(value) for key, value in {**DEFAULT_WEIGHTS, **changes}.items()}
    return {**data, "for_industry": industry}


def test_an_industry_keeps_only_what_differs_and_follows_the_program_for_the_rest(manager):
    row = ams.ams_industry_weights_save(
        industry="Healthcare", weights={**DEFAULT_WEIGHTS, "reviews": 50}, by=manager
    )
    assert row.weights == {"reviews": 50}
    ams.ams_weights_save(weights={**DEFAULT_WEIGHTS, "social_shares": 7}, by=manager)
    healthcare = ams.weights_for("healthcare")  # case does not matter
    assert (healthcare["reviews"], healthcare["social_shares"]) == (50, 7)
    assert ams.weights_for("Retail") == ams.weights_current()
    assert ams.weights_for("") == ams.weights_current()


def test_an_advocate_is_scored_with_their_industrys_weights(manager):
    ams.ams_industry_weights_save(
        industry="Healthcare", weights={**DEFAULT_WEIGHTS, "reviews": 50}, by=manager
    )
    nurse, grocer = _reviewer("HEALTHCARE"), _reviewer("Retail")
    ams_refresh(advocate_id=nurse.pk)
    ams_refresh(advocate_id=grocer.pk)
    nurse.refresh_from_db()
    grocer.refresh_from_db()
    # Public part is 40 of 100, full at 100 points: 2 × 50 = 100 → 40; 2 × 20 = 40 → 16.
    assert (nurse.ams_public, grocer.ams_public) == (40, 16)


def test_the_full_recompute_agrees_with_incremental_per_industry(manager):
    ams.ams_industry_weights_save(
        industry="Healthcare", weights={**DEFAULT_WEIGHTS, "reviews": 35}, by=manager
    )
    people = [_reviewer("Healthcare"), _reviewer("Retail"), _reviewer("")]
    for person in people:
        ams_refresh(advocate_id=person.pk)
    incremental = {a.pk: a.ams for a in Advocate.objects.filter(pk__in=[p.pk for p in people])}
    Advocate.objects.update(ams=0, ams_private=0, ams_public=0)
    ams_refresh_all(now=timezone.now())
    full = {a.pk: a.ams for a in Advocate.objects.filter(pk__in=[p.pk for p in people])}
    assert full == incremental
    assert incremental[people[0].pk] > incremental[people[1].pk] == incremental[people[2].pk]


def test_changing_industry_rescores_the_advocate(manager, django_capture_on_commit_callbacks):
    ams.ams_industry_weights_save(
        industry="Healthcare", weights={**DEFAULT_WEIGHTS, "reviews": 50}, by=manager
    )
    advocate = _reviewer("Retail")
    ams_refresh(advocate_id=advocate.pk)
    with django_capture_on_commit_callbacks(execute=True):
        advocate_profile_update(advocate=advocate, data={"industry": "Healthcare"})
    advocate.refresh_from_db()
    assert advocate.ams_public == 40


def test_a_manager_gives_an_industry_its_own_weights(
    manager, manager_client, django_capture_on_commit_callbacks
):
    nurse = _reviewer("Healthcare")
    page = manager_client.get(reverse("console:ams_industry_new"))
    assert page.status_code == 200
    assert 'value="Healthcare"' in page.content.decode()  # the known industries offered
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("console:ams_industry_new"), _form_data("Healthcare", reviews=50)
        )
    assert response.status_code == 302
    row = AmsIndustryWeights.objects.get()
    assert (row.for_industry, row.weights, row.updated_by) == (
        "Healthcare",
        {"reviews": 50},
        manager,
    )
    nurse.refresh_from_db()
    assert nurse.ams_public == 40  # recomputed after the save
    listing = manager_client.get(reverse("console:ams")).content.decode()
    assert reverse("console:ams_industry", args=[row.pk]) in listing


def test_the_same_industry_twice_is_refused_and_changes_nothing(manager, manager_client):
    ams.ams_industry_weights_save(industry="Healthcare", weights=DEFAULT_WEIGHTS, by=manager)
    response = manager_client.post(
        reverse("console:ams_industry_new"), _form_data("healthcare", reviews=9)
    )
    assert response.status_code == 400
    assert "already has its own AMS weights" in response.content.decode()
    assert AmsIndustryWeights.objects.get().weights == {}


def test_a_bad_value_is_refused_and_changes_nothing(manager_client):
    response = manager_client.post(
        reverse("console:ams_industry_new"), _form_data("Healthcare", reviews=-1)
    )
    assert response.status_code == 400
    assert not AmsIndustryWeights.objects.exists()
    with pytest.raises(ValidationError):
        ams.ams_industry_weights_save(industry="  ", weights=DEFAULT_WEIGHTS, by=None)


def test_dropping_an_industrys_weights_goes_back_to_the_programs(
    manager, manager_client, django_capture_on_commit_callbacks
):
    row = ams.ams_industry_weights_save(
        industry="Healthcare", weights={**DEFAULT_WEIGHTS, "reviews": 50}, by=manager
    )
    nurse = _reviewer("Healthcare")
    ams_refresh(advocate_id=nurse.pk)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("console:ams_industry", args=[row.pk]), {"delete": "1"})
    assert not AmsIndustryWeights.objects.exists()
    nurse.refresh_from_db()
    assert nurse.ams_public == 16


def test_only_managers_edit_industry_weights(client, rep, advocate):
    for user in (rep, advocate.user):
        client.force_login(user)
        assert client.get(reverse("console:ams_industry_new")).status_code == 403


def test_one_advocates_refresh_and_the_nightly_recompute_match_industries_alike(manager):
    """Accents and case: both paths compare the same way, so a score never flips."""
    ams.ams_industry_weights_save(
        industry="Énergie", weights={**DEFAULT_WEIGHTS, "reviews": 50}, by=manager
    )
    assert ams.weights_for("énergie")["reviews"] == 50
    assert ams.weights_table().for_industry("ÉNERGIE ")["reviews"] == 50
    with pytest.raises(ValidationError):
        ams.ams_industry_weights_save(industry="énergie", weights=DEFAULT_WEIGHTS, by=manager)
