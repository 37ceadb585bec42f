"""Prospect company events: all-or-nothing import, and the owning rep told once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from console.models import ProspectEvent, ProspectEventSuggestion
from console.prospect_events import prospect_events_import
from references.models import ReferenceRequest
from referrals.models import Stage
from tests import factories
from tests.references.factories import ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("events.csv", text.encode("utf-8"), content_type="text/csv")


def _events(*rows: str) -> SimpleUploadedFile:
    return _csv("domain,event_type,date\n" + "".join(f"{row}\n" for row in rows))


YESTERDAY = (timezone.localdate() - timedelta(days=1)).isoformat()


def test_a_bad_row_imports_nothing_and_lists_every_problem(manager_client):
    response = manager_client.post(
        reverse("console:prospect_events"),
        {
            "file": _events(
                f"acme.example,funding_round,{YESTERDAY}",
                f"not a domain,funding_round,{YESTERDAY}",
                f"beta.example,party,{YESTERDAY}",
                "gamma.example,new_hire,31/12/2025",
                "delta.example,expansion,2999-01-01",
            )
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing imported" in page
    assert "Line 3: “not a domain” is not a company domain." in page
    assert "Line 4: “party” is not an event type." in page
    assert "Line 5: “31/12/2025” is not a date (YYYY-MM-DD)." in page
    assert "Line 6: 2999-01-01 is in the future." in page
    assert not ProspectEvent.objects.exists()


def test_matching_open_request_tells_its_rep_once(
    manager, rep, other_rep, mailoutbox, django_capture_on_commit_callbacks
):
    request = ReferenceRequestFactory(
        rep=rep, prospect_email="cto@acme.example", prospect_company="Acme"
    )
    ReferenceRequestFactory(  # closed: no suggestion
        rep=other_rep,
        prospect_email="ceo@acme.example",
        status=ReferenceRequest.Status.COMPLETED,
    )
    ReferenceRequestFactory(rep=other_rep, prospect_email="x@other.example")
    file_rows = (f"https://www.Acme.example/,Funding Round,{YESTERDAY}",)

    with django_capture_on_commit_callbacks(execute=True):
        result = prospect_events_import(file=_events(*file_rows), imported_by=manager)

    assert (result.created, result.suggestions, result.errors) == (1, 1, [])
    event = ProspectEvent.objects.get()
    assert (event.domain, event.kind) == ("acme.example", "funding_round")
    suggestion = ProspectEventSuggestion.objects.get()
    assert (suggestion.request, suggestion.rep) == (request, rep)
    assert suggestion.emailed_at is not None
    [email] = mailoutbox
    assert email.to == [rep.email]
    assert "funding round" in email.subject
    assert reverse("references:request_detail", kwargs={"pk": request.pk}) in email.body

    # The same file again: nothing new, nobody told twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = prospect_events_import(file=_events(*file_rows), imported_by=manager)
    assert (again.created, again.unchanged, again.suggestions) == (0, 1, 0)
    assert len(mailoutbox) == 1
    assert ProspectEventSuggestion.objects.count() == 1

    # A new request for the same company opened since: the re-import tells its rep.
    later = ReferenceRequestFactory(rep=other_rep, prospect_email="vp@eu.acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        third = prospect_events_import(file=_events(*file_rows), imported_by=manager)
    assert third.suggestions == 1
    assert ProspectEventSuggestion.objects.filter(request=later, rep=other_rep).exists()
    assert [m.to for m in mailoutbox] == [[rep.email], [other_rep.email]]


def test_open_referral_at_the_company_tells_its_owner_rep(
    manager, rep, mailoutbox, django_capture_on_commit_callbacks
):
    advocate = factories.AdvocateFactory(owner_rep=rep)
    referral = ReferralFactory(
        advocate=advocate, referred_email="lead@beta.example", stage=Stage.QUALIFIED
    )
    ReferralFactory(advocate=advocate, referred_email="old@beta.example", stage=Stage.LOST)
    with django_capture_on_commit_callbacks(execute=True):
        result = prospect_events_import(
            file=_events(f"beta.example,new_hire,{YESTERDAY}"), imported_by=manager
        )
    assert result.suggestions == 1
    assert ProspectEventSuggestion.objects.get().referral == referral
    assert mailoutbox[0].to == [rep.email]


def test_events_page_lists_events_with_constant_queries(manager_client):
    url = reverse("console:prospect_events")

    def count(n: int) -> int:
        for i in range(n):
            ProspectEvent.objects.create(
                domain=f"c{n}-{i}.example", kind="expansion", occurred_on=timezone.localdate()
            )
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(url).status_code == 200
        return len(queries)

    manager_client.get(url)
    assert count(2) == count(10)
