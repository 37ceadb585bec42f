"""The rep's and manager's pages: the request form, the lists, match page, console, weights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocates.models import Person
from advocates.services import advocate_profile_update
from references.models import Ask, MatchingWeights, ReferenceRequest
from tests.factories import AdvocateFactory, ProductFactory, TagFactory
from tests.references.factories import (
    AskFactory,
    PersonFactory,
    ReferenceRequestFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


def _form(**overrides) -> dict:
    return {
        "prospect_name": "Percy Prospect",
        "prospect_email": "percy@acme.example",
        "prospect_title": "CIO",
        "prospect_company": "Acme Clinics",
        "prospect_industry": "Healthcare",
        "prospect_company_size": "501-5000",
        "opportunity_name": "Acme rollout",
        "opportunity_amount": "84000",
        "opportunity_stage": "evaluation",
        "call_type": "video",
        "needed_by": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "products": [ProductFactory(name="Analytics").pk],
        "topics": [TagFactory(name="Fast onboarding").pk],
    } | overrides


def test_rep_submits_a_request_and_lands_on_the_ranked_matches(rep_client, rep) -> None:
    AdvocateFactory(user__first_name="Hana", industry="Healthcare", reference_opt_in=True)
    response = rep_client.post(reverse("references:request_new"), _form(), follow=True)
    request = ReferenceRequest.objects.get()
    assert request.rep == rep
    assert request.status == ReferenceRequest.Status.OPEN
    assert list(request.products.values_list("name", flat=True)) == ["Analytics"]
    # The prospect joins the graph, so paths to them can be found.
    assert request.prospect_person.kind == Person.Kind.PROSPECT
    page = response.content.decode()
    assert "Hana" in page
    assert "Healthcare like Acme Clinics" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("prospect_email", "not-an-email", "Enter a valid email address."),
        ("needed_by", "2001-01-01", "Pick a date from today on."),
        ("opportunity_amount", "-5", "greater than or equal to 0"),
        ("call_type", "carrier-pigeon", "Select a valid choice."),
        ("prospect_name", "", "This field is required."),
    ],
)
def test_bad_input_gets_a_clear_message_and_creates_nothing(rep_client, field, value, message):
    response = rep_client.post(reverse("references:request_new"), _form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ReferenceRequest.objects.exists()
    assert not Person.objects.exists()


def test_a_rep_sees_their_own_requests_and_a_manager_sees_all(
    rep_client, manager_client, rep, other_rep
) -> None:
    mine = ReferenceRequestFactory(rep=rep, prospect_name="Mine Prospect")
    theirs = ReferenceRequestFactory(rep=other_rep, prospect_name="Theirs Prospect")
    page = rep_client.get(reverse("references:requests")).content.decode()
    assert "Mine Prospect" in page
    assert "Theirs Prospect" not in page
    assert rep_client.get(reverse("references:request_detail", args=[theirs.pk])).status_code == 404
    page = manager_client.get(reverse("references:requests")).content.decode()
    assert "Mine Prospect" in page
    assert "Theirs Prospect" in page
    assert (
        manager_client.get(reverse("references:request_detail", args=[mine.pk])).status_code == 200
    )


def test_status_filter_with_htmx_returns_the_results_only(rep_client, rep, htmx_headers) -> None:
    ReferenceRequestFactory(rep=rep, prospect_name="Open One")
    ReferenceRequestFactory(rep=rep, prospect_name="Done One", status="completed")
    response = rep_client.get(
        reverse("references:requests"), {"status": "completed"}, **htmx_headers
    )
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="results"' in page
    assert "Done One" in page
    assert "Open One" not in page


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_request_list_query_count_does_not_grow_with_rows(rep_client, rep) -> None:
    MatchingWeights.current()
    for _ in range(3):
        AskFactory(request=ReferenceRequestFactory(rep=rep))
    few = _count(rep_client, reverse("references:requests"))
    for _ in range(30):  # more than a page
        AskFactory(request=ReferenceRequestFactory(rep=rep), advocate=AdvocateFactory())
    assert _count(rep_client, reverse("references:requests")) == few


def test_match_page_query_count_does_not_grow_with_advocates(rep_client, rep) -> None:
    percy = PersonFactory(kind=Person.Kind.PROSPECT)
    request = ReferenceRequestFactory(rep=rep, prospect_person=percy)
    request.products.set([ProductFactory(name="Analytics")])
    request.topics.set([TagFactory(name="Fast onboarding")])
    colleague = PersonFactory(kind=Person.Kind.EMPLOYEE)
    RelationshipFactory(from_person=colleague, to_person=percy)

    def add(n: int) -> None:
        for _ in range(n):
            advocate = AdvocateFactory(reference_opt_in=True, industry="Healthcare")
            advocate_profile_update(
                advocate=advocate,
                data={"products": request.products.all(), "tags": request.topics.all()},
            )
            person = PersonFactory(advocate=advocate, kind=Person.Kind.ADVOCATE)
            RelationshipFactory(from_person=person, to_person=colleague)
            AskFactory(advocate=advocate, status=Ask.Status.DECLINED)

    url = reverse("references:request_detail", args=[request.pk])
    MatchingWeights.current()  # created once, on the first visit ever
    add(3)
    few = _count(rep_client, url)
    add(25)  # more than the page shows
    assert _count(rep_client, url) == few


def test_manager_edits_weights_and_bad_values_are_refused(manager_client, manager) -> None:
    url = reverse("references:weights")
    fields = {
        "industry": 30,
        "seniority": 15,
        "products": 12,
        "company_size": 10,
        "topics": 10,
        "interests": 8,
        "direct_connection": 40,
        "second_degree": 99,
        "accept_rate": 15,
        "shortlist_size": 3,
        "answer_hours": 48,
        "link_days": 7,
        "dispute_days": 3,
    }
    assert manager_client.post(url, fields).status_code == 302
    weights = MatchingWeights.current()
    assert (weights.second_degree, weights.answer_hours, weights.updated_by) == (99, 48, manager)
    response = manager_client.post(url, fields | {"shortlist_size": 0, "industry": 5000})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Use a weight from 0 to 1,000." in page
    weights.refresh_from_db()
    assert (weights.industry, weights.shortlist_size) == (30, 3)


def test_console_shows_open_requests_and_who_is_near_cap(manager_client) -> None:
    busy = AdvocateFactory(user__first_name="Busy", reference_opt_in=True)
    AskFactory(advocate=busy, status=Ask.Status.ACCEPTED)
    ReferenceRequestFactory(prospect_name="Waiting Prospect")
    willing = AdvocateFactory(user__first_name="Wilma", reference_opt_in=True)
    AskFactory(advocate=willing, status=Ask.Status.DECLINED)
    AskFactory(advocate=willing, status=Ask.Status.COMPLETED, completed_at=timezone.now())
    page = manager_client.get(reverse("references:console")).content.decode()
    assert "Wilma" in page
    assert "50%" in page
    assert "Near their cap" in page
    assert "Busy" in page
    assert "1 of 2 calls" in page
    assert "Waiting Prospect" in page
    assert "Influenced revenue" in page
    assert "Fulfilment rate" in page


def test_rep_asks_an_advocate_directly(rep_client, rep) -> None:
    advocate = AdvocateFactory(reference_opt_in=True)
    request = ReferenceRequestFactory(rep=rep)
    rep_client.post(reverse("references:request_ask", args=[request.pk]), {"advocate": advocate.pk})
    assert Ask.objects.get(request=request).advocate == advocate
    # A second ask while one is in flight is refused with a message.
    other = AdvocateFactory(reference_opt_in=True)
    response = rep_client.post(
        reverse("references:request_ask", args=[request.pk]), {"advocate": other.pk}, follow=True
    )
    assert "no new advocate can be asked" in response.content.decode()
    assert Ask.objects.filter(request=request).count() == 1


def test_console_figures_are_shared_for_a_minute_and_say_when(manager_client) -> None:
    from datetime import timedelta
    from unittest import mock

    from references import selectors

    ReferenceRequestFactory(prospect_name="First Prospect")
    url = reverse("references:console")
    first = manager_client.get(url).content.decode()
    ReferenceRequestFactory(prospect_name="Second Prospect")
    again = manager_client.get(url).content.decode()
    # The open requests are listed live; the program-wide cards wait for the minute.
    assert "Second Prospect" in again
    assert selectors.console_figures().stats.open_requests == 1
    assert "Figures as of" in first
    later = timezone.now() + timedelta(seconds=selectors.CONSOLE_CACHE_SECONDS + 1)
    with mock.patch("django.core.cache.backends.locmem.time.time", return_value=later.timestamp()):
        assert selectors.console_figures().stats.open_requests == 2
