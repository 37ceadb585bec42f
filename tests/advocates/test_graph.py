"""The relationship graph: people merged by email then LinkedIn URL, edges by hand."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.graph import neighbour_ids
from advocates.models import Person, Relationship
from advocates.services import graph
from tests.references.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_people_merge_by_email_then_by_linkedin_url() -> None:
    first = graph.person_get_or_create(full_name="Percy", email="Percy@Acme.example")
    same = graph.person_get_or_create(full_name="P. Prospect", email="percy@acme.example")
    assert same == first
    by_url = graph.person_get_or_create(
        full_name="Nora", linkedin_url="linkedin.com/in/Nora-North/?trk=x"
    )
    assert by_url.linkedin_url == "https://linkedin.com/in/nora-north"
    again = graph.person_get_or_create(
        full_name="Nora N",
        email="nora@northwind.example",
        linkedin_url="https://linkedin.com/in/nora-north",
    )
    assert again == by_url
    again.refresh_from_db()
    assert again.email == "nora@northwind.example"  # a blank filled, nothing overwritten
    assert Person.objects.count() == 2


def test_advocate_and_user_nodes_are_linked_once(advocate, rep) -> None:
    node = graph.person_for_advocate(advocate)
    assert (node.advocate, node.kind) == (advocate, Person.Kind.ADVOCATE)
    assert graph.person_for_user(advocate.user) == node
    colleague = graph.person_for_user(rep)
    assert (colleague.user, colleague.kind) == (rep, Person.Kind.EMPLOYEE)
    assert graph.person_for_email("REP@example.com") == colleague
    assert Person.objects.count() == 2


def test_relationship_add_keeps_one_edge_per_pair() -> None:
    a, b = PersonFactory(), PersonFactory()
    edge, created = graph.relationship_add(from_person=a, to_person=b)
    assert created
    assert graph.relationship_add(from_person=b, to_person=a) == (edge, False)
    with pytest.raises(graph.GraphError):
        graph.relationship_add(from_person=a, to_person=a)
    assert neighbour_ids(a.pk) == {b.pk}
    assert neighbour_ids(b.pk) == {a.pk}


def test_rep_adds_an_edge_by_hand(rep_client, rep, advocate) -> None:
    response = rep_client.post(
        reverse("references:graph"),
        {
            "add_edge": "1",
            "from_email": advocate.user.email,
            "full_name": "Percy Prospect",
            "email": "percy@acme.example",
            "company_name": "Acme",
            "note": "Former colleagues",
        },
    )
    assert response.status_code == 302
    edge = Relationship.objects.get()
    assert edge.from_person.advocate == advocate
    assert (edge.to_person.email, edge.note) == ("percy@acme.example", "Former colleagues")
    assert (edge.source, edge.created_by) == (Relationship.Source.MANUAL, rep)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"full_name": "No Way To Merge"}, "Give an email or a LinkedIn URL"),
        (
            {"full_name": "X", "email": "x@example.com", "from_email": "ghost@example.com"},
            "No advocate, colleague or person has this email.",
        ),
    ],
)
def test_bad_manual_edges_are_refused_and_nothing_changes(rep_client, data, message) -> None:
    response = rep_client.post(reverse("references:graph"), {"add_edge": "1", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Relationship.objects.exists()
    assert not Person.objects.exclude(kind=Person.Kind.EMPLOYEE).exists()


def test_opening_the_graph_page_writes_nothing(rep_client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = rep_client.get(reverse("references:graph"))
    assert response.status_code == 200
    writes = [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert not Person.objects.exists()
    assert "You know 0 people." in response.content.decode()


def test_the_graph_page_counts_the_connections_of_the_reps_existing_node(rep_client, rep) -> None:
    # Imported by a colleague before the rep ever had a node: the same human, so their
    # connections are the rep's.
    node = PersonFactory(email=rep.email.upper())
    graph.relationship_add(from_person=node, to_person=PersonFactory())
    response = rep_client.get(reverse("references:graph"))
    assert "You know 1 person." in response.content.decode()
