"""Matching weights per industry: a request is ranked with its prospect's industry's set,
else with the program's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from advocates.services import advocate_profile_update
from references import matching, services
from references.models import IndustryWeights, MatchingWeights
from tests.factories import AdvocateFactory, ProductFactory
from tests.references.factories import ReferenceRequestFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "industry": 30,
    "seniority": 15,
    "products": 12,
    "company_size": 10,
    "topics": 10,
    "direct_connection": 40,
    "second_degree": 20,
    "accept_rate": 15,
}


@pytest.fixture
def two_fits(rep):
    """Alice shares the prospect's industry, Bob their product."""
    analytics = ProductFactory(name="Analytics")
    alice = AdvocateFactory(user__first_name="Alice", industry="Healthcare", reference_opt_in=True)
    bob = AdvocateFactory(user__first_name="Bob", industry="Software", reference_opt_in=True)
    advocate_profile_update(advocate=bob, data={"products": [analytics]})
    request = ReferenceRequestFactory(rep=rep, prospect_industry="Healthcare")
    request.products.set([analytics])
    return request, alice, bob


def _order(request) -> list:
    return [match.advocate for match in matching.rank(request)]


def test_the_industry_set_changes_the_ranking(two_fits, manager) -> None:
    request, alice, bob = two_fits
    assert _order(request) == [alice, bob]  # the program's: industry 30 beats a product 12
    services.industry_weights_save(
        by=manager, for_industry="healthcare", **(FIELDS | {"industry": 0, "products": 100})
    )
    assert matching.weights_for(request).label == "the healthcare weights"
    assert _order(request) == [bob, alice]
    assert matching.rank(request)[0].score >= 100


def test_an_unknown_industry_falls_back_to_the_programs_weights(two_fits, manager) -> None:
    request, alice, bob = two_fits
    services.industry_weights_save(
        by=manager, for_industry="Mining", **(FIELDS | {"industry": 0, "products": 100})
    )
    assert matching.weights_for(request) == MatchingWeights.current()
    assert _order(request) == [alice, bob]


def test_the_match_list_says_which_set_ranked_it(rep_client, two_fits, manager) -> None:
    request, *_ = two_fits
    url = reverse("references:request_detail", args=[request.pk])
    assert "Ranked with the program&#x27;s weights." in rep_client.get(url).content.decode()
    services.industry_weights_save(by=manager, for_industry="HEALTHCARE", **FIELDS)
    assert "Ranked with the HEALTHCARE weights." in rep_client.get(url).content.decode()


def test_manager_adds_edits_and_removes_an_industry_set(manager_client) -> None:
    page = manager_client.get(reverse("references:industry_weights_new")).content.decode()
    assert 'value="30"' in page  # starts from the program's weights
    response = manager_client.post(
        reverse("references:industry_weights_new"), {"for_industry": "Banking"} | FIELDS
    )
    assert response.status_code == 302
    banking = IndustryWeights.objects.get()
    assert banking.for_industry == "Banking"
    assert "Banking" in manager_client.get(reverse("references:weights")).content.decode()
    edit = reverse("references:industry_weights_edit", args=[banking.pk])
    manager_client.post(edit, {"for_industry": "Banking"} | FIELDS | {"topics": 50})
    banking.refresh_from_db()
    assert banking.topics == 50
    manager_client.post(edit, {"delete": "1"})
    assert not IndustryWeights.objects.exists()


def test_a_duplicate_industry_is_refused_with_a_clear_message(manager_client, manager) -> None:
    services.industry_weights_save(by=manager, for_industry="Banking", **FIELDS)
    response = manager_client.post(
        reverse("references:industry_weights_new"), {"for_industry": " banking "} | FIELDS
    )
    assert "already has its own weights" in response.content.decode()
    assert IndustryWeights.objects.count() == 1
    with pytest.raises(services.ReferenceError, match="“BANKING” already has its own weights"):
        services.industry_weights_save(by=manager, for_industry="BANKING", **FIELDS)


def test_negative_weights_are_refused_with_a_clear_message(manager_client, manager) -> None:
    response = manager_client.post(
        reverse("references:industry_weights_new"),
        {"for_industry": "Banking"} | FIELDS | {"products": -5},
    )
    assert "Weights cannot be negative." in response.content.decode()
    assert not IndustryWeights.objects.exists()
    with pytest.raises(services.ReferenceError, match="cannot be negative"):
        services.industry_weights_save(
            by=manager, for_industry="Banking", **FIELDS | {"topics": -1}
        )
    with pytest.raises(services.ReferenceError, match="Name the industry"):
        services.industry_weights_save(by=manager, for_industry="  ", **FIELDS)
    assert not IndustryWeights.objects.exists()
