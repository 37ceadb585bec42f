"""Importing a LinkedIn Connections.csv, shaped as LinkedIn exports it."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from advocates.graph import neighbour_ids
from advocates.models import Person, Relationship
from advocates.services import graph
from tests.references.factories import PersonFactory

pytestmark = pytest.mark.django_db

# As LinkedIn produces it: a BOM, "Notes:" lines, a blank line, then the header.
CONNECTIONS_CSV = """\ufeffNotes:
"When exporting your connection data, you may notice that some of the email addresses are missing. You will only see email addresses for connections who have allowed their connections to see or download their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn more here https://www.linkedin.com/help/linkedin/answer/261"

First Name,Last Name,URL,Email Address,Company,Position,Connected On
Percy,Prospect,https://www.linkedin.com/in/percy-prospect,Percy@Acme.example,Acme Clinics,CIO,12 Mar 2024
Nora,North,https://www.linkedin.com/in/nora-north,,Northwind,Head of IT,01 Feb 2023
Nora,North,https://www.linkedin.com/in/Nora-North/,,Northwind,Head of IT,01 Feb 2023
,,https://www.linkedin.com/in/nobody,,,,01 Feb 2023
Bad,Email,https://www.linkedin.com/in/bad-email,not-an-email,X,Y,01 Jan 2024
Bad,Date,https://www.linkedin.com/in/bad-date,,X,Y,yesterday
No,Contact,,,X,Y,01 Jan 2024
Known,Person,https://www.linkedin.com/in/known-person,known@example.com,Known Co,CTO,05 May 2022
"Lee, Jr.",Sam,https://www.linkedin.com/in/sam-lee,,"Initech, Inc.",CTO,05 May 2022
Short,Row
"""  # noqa: E501 - lines as long as LinkedIn writes them


@pytest.fixture
def owner():
    return PersonFactory(full_name="Olivia Owner", email="owner@example.com")


def test_real_shaped_file_imports_good_rows_and_reports_bad_ones(owner) -> None:
    known = PersonFactory(full_name="Known Person", email="known@example.com")
    result = graph.connections_import(owner=owner, source=CONNECTIONS_CSV)

    assert [line for line, _why in result.errors] == [8, 9, 10, 11, 14]
    reasons = " ".join(why for _line, why in result.errors)
    assert "No first or last name" in reasons
    assert "“not-an-email” is not a valid email address" in reasons
    assert "“yesterday” is not a date" in reasons
    assert "neither an email nor a profile URL" in reasons
    assert "Expected 7 columns, found 2" in reasons
    # The same profile URL in another spelling is one person.
    assert result.duplicates == [(7, "Nora North is the same person as line 6.")]
    assert (result.people_created, result.people_matched) == (3, 1)
    assert (result.edges_created, result.edges_existing) == (4, 0)

    percy = Person.objects.get(email="percy@acme.example")  # emails are kept lower-case
    assert percy.linkedin_url == "https://www.linkedin.com/in/percy-prospect"
    assert (percy.company_name, percy.title) == ("Acme Clinics", "CIO")
    sam = Person.objects.get(linkedin_url="https://www.linkedin.com/in/sam-lee")
    assert (sam.full_name, sam.company_name) == ("Lee, Jr. Sam", "Initech, Inc.")
    # Merged by email: the existing person gains the profile URL, no copy is made.
    known.refresh_from_db()
    assert known.linkedin_url == "https://www.linkedin.com/in/known-person"
    edge = Relationship.objects.get(from_person=owner, to_person=percy)
    assert edge.source == Relationship.Source.LINKEDIN
    assert edge.connected_on.isoformat() == "2024-03-12"


def test_importing_again_changes_nothing(owner) -> None:
    graph.connections_import(owner=owner, source=CONNECTIONS_CSV)
    people, edges = Person.objects.count(), Relationship.objects.count()
    again = graph.connections_import(owner=owner, source=CONNECTIONS_CSV)
    assert (again.edges_created, again.people_created) == (0, 0)
    assert again.edges_existing == 4
    assert (Person.objects.count(), Relationship.objects.count()) == (people, edges)


def test_an_edge_recorded_the_other_way_is_not_duplicated(owner) -> None:
    percy = PersonFactory(email="percy@acme.example")
    Relationship.objects.create(from_person=percy, to_person=owner, source="manual")
    result = graph.connections_import(owner=owner, source=CONNECTIONS_CSV)
    assert result.edges_existing == 1
    assert Relationship.objects.filter(to_person=owner).count() == 1


def test_a_failure_part_way_leaves_nothing_half_imported(owner) -> None:
    with (
        mock.patch.object(Relationship.objects, "bulk_create", side_effect=RuntimeError("disk")),
        pytest.raises(RuntimeError),
    ):
        graph.connections_import(owner=owner, source=CONNECTIONS_CSV)
    assert list(Person.objects.all()) == [owner]
    assert not Relationship.objects.exists()


def test_a_file_without_the_linkedin_header_is_refused(owner) -> None:
    result = graph.connections_import(owner=owner, source="name,email\nA,a@example.com\n")
    assert result.errors[0][1].startswith("No LinkedIn header found")
    assert list(Person.objects.all()) == [owner]


def test_command_imports_for_the_owner(tmp_path, rep, capsys) -> None:
    path = tmp_path / "Connections.csv"
    path.write_text(CONNECTIONS_CSV, encoding="utf-8")
    call_command("import_connections", str(path), owner="REP@example.com")
    out, err = capsys.readouterr()
    assert "4 new connection(s)" in out
    assert "line 9: “not-an-email” is not a valid email address." in err
    me = Person.objects.get(user=rep)  # the rep becomes a colleague node
    assert me.kind == Person.Kind.EMPLOYEE
    assert len(neighbour_ids(me.pk)) == 4


def test_command_refuses_an_unknown_owner_or_file(tmp_path) -> None:
    path = tmp_path / "Connections.csv"
    path.write_text(CONNECTIONS_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="No advocate, colleague or person"):
        call_command("import_connections", str(path), owner="ghost@example.com")
    PersonFactory(email="real@example.com")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_connections", str(tmp_path / "missing.csv"), owner="real@example.com")
    assert not Relationship.objects.exists()


def test_rep_uploads_connections_in_the_ui(rep_client, rep) -> None:
    upload = SimpleUploadedFile("Connections.csv", CONNECTIONS_CSV.encode(), "text/csv")
    response = rep_client.post(reverse("references:graph"), {"import": "1", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "5 rows not imported" in page
    assert "Line 9: “not-an-email” is not a valid email address." in page
    assert Relationship.objects.filter(from_person__user=rep).count() == 4


def test_ui_refuses_a_non_utf8_file(rep_client) -> None:
    upload = SimpleUploadedFile("Connections.csv", "Ï".encode("latin-1"), "text/csv")
    response = rep_client.post(reverse("references:graph"), {"import": "1", "file": upload})
    assert "The file is not UTF-8 text." in response.content.decode()
    assert not Relationship.objects.exists()
