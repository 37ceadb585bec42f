"""Job-change signals: a re-imported connections file shows a contact at a new company;
the reps of open requests and referrals at either company are told, once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.models import Company, JobChange, Person
from advocates.services import graph
from console.models import JobChangeNotice
from references.models import ReferenceRequest
from referrals.models import Stage
from tests.factories import RepFactory
from tests.references.factories import PersonFactory, ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
BEFORE = HEADER + (
    "Percy,Prospect,https://www.linkedin.com/in/percy,percy@gmail.com,Acme,CIO,12 Mar 2024\n"
    "Nora,North,https://www.linkedin.com/in/nora,,Northwind,CTO,01 Feb 2023\n"
)
# Percy moved to Globex (found by email); Nora is the same (found by profile URL).
AFTER = HEADER + (
    "Percy,Prospect,https://www.linkedin.com/in/percy,percy@gmail.com,Globex,CTO,12 Mar 2024\n"
    "Nora,North,https://www.linkedin.com/in/nora,,Northwind,CTO,01 Feb 2023\n"
)


@pytest.fixture
def owner():
    return PersonFactory(full_name="Olivia Owner", email="owner@example.com")


def _import(owner, text, capture):
    with capture(execute=True):
        return graph.connections_import(owner=owner, source=text)


def test_a_moved_contact_raises_one_signal_and_tells_the_right_reps(
    owner, rep, other_rep, mailoutbox, django_capture_on_commit_callbacks
):
    _import(owner, BEFORE, django_capture_on_commit_callbacks)
    Company.objects.create(name="Globex", domain="globex.example")
    old_deal = ReferenceRequestFactory(rep=rep, prospect_company="ACME", prospect_name="Al Old")
    # At the new company, known by its domain only (the referral typed no company name).
    new_deal = ReferralFactory(
        owner_rep=other_rep,
        referred_company="",
        referred_email="buyer@eu.globex.example",
        referred_domain="eu.globex.example",
        referred_name="Gina Globex",
    )
    bystander = RepFactory(email="bystander@example.com")
    ReferenceRequestFactory(  # closed: nobody told
        rep=bystander, prospect_company="Acme", status=ReferenceRequest.Status.COMPLETED
    )
    ReferralFactory(owner_rep=bystander, referred_company="Globex", stage=Stage.WON)
    ReferenceRequestFactory(rep=bystander, prospect_company="Initech")  # another company
    assert not mailoutbox

    result = _import(owner, AFTER, django_capture_on_commit_callbacks)

    assert result.job_changes == 1
    change = JobChange.objects.get()
    percy = Person.objects.get(email="percy@gmail.com")
    assert (change.person, change.from_company, change.to_company, change.source) == (
        percy,
        "Acme",
        "Globex",
        JobChange.Source.LINKEDIN,
    )
    assert (percy.company_name, percy.title) == ("Globex", "CTO")
    told = {(n.rep, n.request, n.referral) for n in JobChangeNotice.objects.all()}
    assert told == {(rep, old_deal, None), (other_rep, None, new_deal)}
    assert sorted(mail.to[0] for mail in mailoutbox) == [other_rep.email, rep.email]
    mail = next(mail for mail in mailoutbox if mail.to == [rep.email])
    assert mail.subject == "Percy Prospect moved from Acme to Globex"
    assert reverse("references:request_detail", kwargs={"pk": old_deal.pk}) in mail.body
    assert all(n.emailed_at for n in JobChangeNotice.objects.all())

    # The same file again: no new move, nobody told twice.
    again = _import(owner, AFTER, django_capture_on_commit_callbacks)
    assert again.job_changes == 0
    assert JobChange.objects.count() == 1
    assert JobChangeNotice.objects.count() == 2
    assert len(mailoutbox) == 2


def test_an_unchanged_reimport_raises_nothing(
    owner, rep, mailoutbox, django_capture_on_commit_callbacks
):
    ReferenceRequestFactory(rep=rep, prospect_company="Acme")
    _import(owner, BEFORE, django_capture_on_commit_callbacks)
    # The same people, the company spelt with other case and spaces: the same company.
    respelt = BEFORE.replace(",Acme,", ", acme ,")
    result = _import(owner, respelt, django_capture_on_commit_callbacks)
    assert (result.job_changes, result.people_matched) == (0, 2)
    assert not JobChange.objects.exists()
    assert not mailoutbox


def test_a_move_with_no_open_deal_is_recorded_and_tells_nobody(
    owner, rep, mailoutbox, django_capture_on_commit_callbacks
):
    ReferenceRequestFactory(rep=rep, prospect_company="Initech")
    _import(owner, BEFORE, django_capture_on_commit_callbacks)

    result = _import(owner, AFTER, django_capture_on_commit_callbacks)

    assert result.job_changes == 1
    assert JobChange.objects.get().to_company == "Globex"
    assert not JobChangeNotice.objects.exists()
    assert not mailoutbox


def test_the_person_page_shows_the_move(owner, rep_client, django_capture_on_commit_callbacks):
    _import(owner, BEFORE, django_capture_on_commit_callbacks)
    _import(owner, AFTER, django_capture_on_commit_callbacks)
    percy = Person.objects.get(email="percy@gmail.com")
    page = rep_client.get(reverse("references:graph_person", kwargs={"pk": percy.pk}))
    assert "Acme → <strong>Globex</strong>" in page.content.decode()


def _signals(owner, rep, n: int) -> None:
    """``n`` moves, each from the company of an open request of ``rep``'s."""
    for i in range(n):
        person = PersonFactory(company_name=f"Old {i}")
        ReferenceRequestFactory(rep=rep, prospect_company=f"Old {i}")
        change = JobChange.objects.create(
            person=person, from_company=f"Old {i}", to_company=f"New {i}"
        )
        JobChangeNotice.objects.create(
            job_change=change, rep=rep, request=ReferenceRequest.objects.last()
        )


def _count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("console:signals")).status_code == 200
    return len(queries)


def test_signals_page_lists_the_reps_own_with_constant_queries(
    owner, rep, other_rep, rep_client, manager_client
):
    _signals(owner, rep, 2)
    few = _count(rep_client)
    _signals(owner, rep, 30)  # more than a page
    assert _count(rep_client) == few
    mover = JobChange.objects.first().person
    theirs = ReferralFactory(owner_rep=other_rep, referred_name="Other Lead")
    JobChangeNotice.objects.create(
        job_change=JobChange.objects.create(person=mover, from_company="A", to_company="B"),
        rep=other_rep,
        referral=theirs,
    )
    assert "Other Lead" not in rep_client.get(reverse("console:signals")).content.decode()
    page = manager_client.get(reverse("console:signals")).content.decode()
    assert "Other Lead" in page
