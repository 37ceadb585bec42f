"""The people directory for managers and reps: pagination, search, filters, htmx."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.models import Advocate, User
from advocates.views import DIRECTORY_PAGE_SIZE
from tests import factories

DIRECTORY = reverse("advocates:directory")


def _names(response) -> list[str]:
    return [advocate.user.email for advocate in response.context["page"].object_list]


@pytest.fixture
def people(rep, other_rep) -> dict[str, Advocate]:
    acme = factories.CompanyFactory(name="Acme Health")
    return {
        "ada": factories.AdvocateFactory(
            user__email="ada@acme.example",
            user__first_name="Ada",
            user__last_name="Lovelace",
            company=acme,
            title="VP Operations",
            industry="Healthcare",
            owner_rep=rep,
        ),
        "bo": factories.AdvocateFactory(
            user__email="bo@globex.example",
            user__first_name="Bo",
            user__last_name="Berg",
            title="Head of IT",
            industry="Financial services",
            owner_rep=other_rep,
        ),
        "cy": factories.AdvocateFactory(
            user__email="cy@initech.example",
            user__first_name="Cy",
            user__last_name="Chen",
            title="Engineer",
            industry="Software",
            status=Advocate.Status.PAUSED,
            owner_rep=rep,
        ),
    }


def test_the_directory_lists_advocates_with_their_details(manager_client, people) -> None:
    response = manager_client.get(DIRECTORY)
    assert response.status_code == 200
    body = response.content.decode()
    assert "3 advocates" in body
    for text in ("Ada Lovelace", "Acme Health", "VP Operations", "Paused", "Ravi"):
        assert text in body
    assert reverse("advocates:detail", args=[people["ada"].pk]) in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lovelace", ["ada@acme.example"]),
        ("ACME", ["ada@acme.example"]),  # company name, any case
        ("globex.example", ["bo@globex.example"]),  # email
        ("head of", ["bo@globex.example"]),  # title
        ("nobody-matches", []),
    ],
)
def test_search_matches_name_email_company_and_title(
    rep_client, people, query: str, expected: list[str]
) -> None:
    response = rep_client.get(DIRECTORY, {"q": query})
    assert _names(response) == expected


def test_filters_by_status_industry_and_owner(rep_client, people) -> None:
    assert _names(rep_client.get(DIRECTORY, {"status": "paused"})) == ["cy@initech.example"]
    assert _names(rep_client.get(DIRECTORY, {"industry": "Healthcare"})) == ["ada@acme.example"]
    mine = rep_client.get(DIRECTORY, {"mine": "on"})
    assert _names(mine) == ["cy@initech.example", "ada@acme.example"]  # by last name
    both = rep_client.get(DIRECTORY, {"mine": "on", "status": "active"})
    assert _names(both) == ["ada@acme.example"]


def test_the_industry_filter_offers_the_industries_in_use(manager_client, people) -> None:
    body = manager_client.get(DIRECTORY).content.decode()
    assert '<option value="Financial services">Financial services</option>' in body
    # "Only advocates I own" is for reps; managers own no one.
    assert 'name="mine"' not in body


def test_an_unknown_filter_value_is_ignored_not_the_others(rep_client, people) -> None:
    response = rep_client.get(DIRECTORY, {"status": "bogus", "q": "berg"})
    assert response.status_code == 200
    assert _names(response) == ["bo@globex.example"]


def test_the_directory_paginates_and_keeps_the_filters_in_page_links(manager_client) -> None:
    factories.AdvocateFactory.create_batch(DIRECTORY_PAGE_SIZE + 5, industry="Software")
    first = manager_client.get(DIRECTORY, {"industry": "Software"})
    assert len(first.context["page"].object_list) == DIRECTORY_PAGE_SIZE
    body = first.content.decode()
    assert "Page 1 of 2" in body
    assert "?industry=Software&amp;page=2" in body
    second = manager_client.get(DIRECTORY, {"industry": "Software", "page": "2"})
    assert len(second.context["page"].object_list) == 5
    assert set(_names(first)).isdisjoint(_names(second))
    # A page out of range shows the last page rather than an error.
    assert manager_client.get(DIRECTORY, {"page": "99"}).status_code == 200


def test_an_htmx_request_gets_only_the_results_fragment(
    manager_client, people, htmx_headers
) -> None:
    response = manager_client.get(DIRECTORY, {"q": "berg"}, **htmx_headers)
    assert response.status_code == 200
    body = response.content.decode().strip()
    assert body.startswith('<section id="results"')
    assert "<html" not in body
    assert "<form" not in body
    assert "Bo Berg" in body
    assert "Ada Lovelace" not in body


def test_an_htmx_history_restore_gets_the_whole_page(manager_client, people, htmx_headers) -> None:
    response = manager_client.get(
        DIRECTORY, {"q": "berg"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **htmx_headers
    )
    body = response.content.decode()
    assert "<html" in body
    assert "Bo Berg" in body


def test_the_search_form_works_without_javascript_and_swaps_the_whole_results(
    manager_client, people
) -> None:
    body = manager_client.get(DIRECTORY).content.decode()
    assert f'method="get" action="{DIRECTORY}"' in body
    # The fragment replaces #results itself (not its content), so it never nests.
    assert 'hx-target="#results" hx-swap="outerHTML"' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_the_query_count_does_not_grow_with_the_number_of_advocates(
    rep, rep_client, htmx: bool
) -> None:
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert rep_client.get(DIRECTORY, **extra).status_code == 200
        return len(queries)

    factories.AdvocateFactory.create_batch(5, owner_rep=rep)
    few = count()
    for n in range(55):
        factories.AdvocateFactory(owner_rep=rep if n % 2 else None, industry=f"Industry {n % 7}")
    many = count()
    assert many == few
    assert many <= 10


def test_the_directory_is_ordered_by_last_then_first_name_then_joining_order(
    manager_client,
) -> None:
    def person(first: str, last: str, email: str) -> Advocate:
        return factories.AdvocateFactory(
            user__first_name=first, user__last_name=last, user__email=email
        )

    person("Zoe", "Adams", "zoe@x.example")
    person("Al", "Baker", "al-1@x.example")
    person("Al", "Adams", "al@x.example")
    person("Al", "Baker", "al-2@x.example")  # a namesake: after the one who joined first
    assert _names(manager_client.get(DIRECTORY)) == [
        "al@x.example",
        "zoe@x.example",
        "al-1@x.example",
        "al-2@x.example",
    ]


def test_users_have_the_name_index_the_directory_sorts_with() -> None:
    # Without it PostgreSQL joins and sorts every advocate for each directory page.
    indexes = {index.name: index.fields for index in User._meta.indexes}
    assert indexes["user_name"] == ["last_name", "first_name", "id"]


@pytest.mark.django_db
def test_industries_are_distinct_sorted_and_read_in_one_query() -> None:
    from advocates.selectors import industries

    for industry in ("Retail", "", "Energy", "Retail", "Software", "Energy", "Zoos"):
        factories.AdvocateFactory(industry=industry)

    with CaptureQueriesContext(connection) as queries:
        found = industries()

    assert found == ["Energy", "Retail", "Software", "Zoos"]
    assert len(queries) == 1


@pytest.mark.django_db
def test_industries_of_no_advocates() -> None:
    from advocates.selectors import industries

    assert industries() == []
