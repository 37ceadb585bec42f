"""Interests on people of the graph: typed on the person's page, imported with the
connections, and searched on the Relationships page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.models import PersonInterest
from advocates.services import graph
from tests.references.factories import PersonFactory

pytestmark = pytest.mark.django_db

HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On,Interests\n"


def _interests(person) -> list[str]:
    return sorted(PersonInterest.objects.filter(person=person).values_list("name", flat=True))


def test_rep_types_interests_on_the_person_page(rep_client) -> None:
    percy = PersonFactory(full_name="Percy Prospect", company_name="Acme")
    url = reverse("references:graph_person", kwargs={"pk": percy.pk})

    response = rep_client.post(url, {"interests": " Data  privacy ; ROI, migration;roi ;"})

    assert response.status_code == 302
    assert _interests(percy) == ["Data privacy", "ROI", "migration"]
    page = rep_client.get(url).content.decode()
    assert "Data privacy" in page
    assert 'value="Data privacy; migration; ROI"' in page  # what the form shows to edit
    # Saving again replaces the set: one kept, one gone, one new.
    rep_client.post(url, {"interests": "roi; security"})
    assert _interests(percy) == ["ROI", "security"]


def test_a_too_long_interest_is_refused_and_changes_nothing(rep_client) -> None:
    percy = PersonFactory()
    PersonInterest.objects.create(person=percy, name="ROI")
    url = reverse("references:graph_person", kwargs={"pk": percy.pk})

    response = rep_client.post(url, {"interests": "security; " + "x" * 101})

    assert response.status_code == 200
    assert "longer than 100 characters" in response.content.decode()
    assert _interests(percy) == ["ROI"]


def test_an_unknown_person_is_a_404(rep_client) -> None:
    response = rep_client.get(reverse("references:graph_person", kwargs={"pk": 99999}))
    assert response.status_code == 404


def test_import_adds_the_optional_interests_column() -> None:
    owner = PersonFactory(full_name="Olivia Owner")
    known = PersonFactory(email="known@example.com", company_name="Known Co")
    PersonInterest.objects.create(person=known, name="Security")  # typed by a rep
    csv = HEADER + (
        "Percy,Prospect,,percy@acme.example,Acme,CIO,12 Mar 2024,data privacy; ROI\n"
        "Known,Person,,known@example.com,Known Co,CTO,05 May 2022,security;Migration\n"
        "Nora,North,,nora@northwind.example,Northwind,CTO,05 May 2022,\n"
        f"Long,One,,long@example.com,X,Y,05 May 2022,{'x' * 101}\n"
    )

    result = graph.connections_import(owner=owner, source=csv)

    assert [line for line, _why in result.errors] == [5]
    assert "Interests: " in result.errors[0][1]
    percy = graph.find_person(email="percy@acme.example", linkedin_url="")
    assert _interests(percy) == ["ROI", "data privacy"]
    # Added to what a rep typed, never removed; the same one in another case is kept once.
    assert _interests(known) == ["Migration", "Security"]
    assert result.interests_added == 3
    # The same file again adds nothing.
    assert graph.connections_import(owner=owner, source=csv).interests_added == 0


def test_files_without_the_column_import_as_before() -> None:
    csv = HEADER.replace(",Interests", "") + "Percy,P,,percy@acme.example,Acme,CIO,\n"
    result = graph.connections_import(owner=PersonFactory(), source=csv)
    assert (result.edges_created, result.errors, result.interests_added) == (1, [], 0)


def test_relationships_page_finds_people_by_interest(rep_client, htmx_headers) -> None:
    percy = PersonFactory(full_name="Percy Prospect", company_name="Acme")
    nora = PersonFactory(full_name="Nora North", company_name="Northwind")
    PersonFactory(full_name="Zed Nobody", company_name="Acme")
    PersonInterest.objects.create(person=percy, name="Data privacy")
    PersonInterest.objects.create(person=nora, name="data privacy")
    PersonInterest.objects.create(person=nora, name="ROI")
    url = reverse("references:graph")

    page = rep_client.get(url, {"interest": "DATA PRIVACY"}).content.decode()
    assert "Percy Prospect" in page
    assert "Nora North" in page
    assert "Zed Nobody" not in page
    both = rep_client.get(url, {"interest": "data privacy", "q": "acme"}).content.decode()
    assert "Percy Prospect" in both
    assert "Nora North" not in both
    # htmx gets the list alone.
    fragment = rep_client.get(url, {"interest": "roi"}, **htmx_headers).content.decode()
    assert "Nora North" in fragment
    assert "Percy Prospect" not in fragment
    assert "<html" not in fragment
    assert "Import LinkedIn connections" not in fragment
    nobody = rep_client.get(url, {"interest": "blockchain"}).content.decode()
    assert "Nobody matches" in nobody


def _count(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_people_list_queries_do_not_grow_with_rows(rep_client) -> None:
    url = reverse("references:graph")

    def add(n: int) -> None:
        for _ in range(n):
            person = PersonFactory()
            PersonInterest.objects.create(person=person, name="ROI")
            PersonInterest.objects.create(person=person, name="security")

    add(2)
    few = _count(rep_client, url, {"interest": "roi"})
    add(30)  # more than a page
    assert _count(rep_client, url, {"interest": "roi"}) == few
    assert _count(rep_client, url, {}) == few
