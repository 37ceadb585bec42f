"""The console's suppression list: see why an address gets no campaign email, add one,
remove one, search and export."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Suppression
from core.models import AuditEntry
from tests.campaigns.test_sending import make_campaign

pytestmark = pytest.mark.django_db
URL = reverse("campaigns:suppression_list")


def test_managers_see_why_each_address_is_suppressed(manager_client) -> None:
    Suppression.objects.create(
        email="gone@example.com",
        reason=Suppression.Reason.BOUNCED,
        detail="Postmark: smtp;550 5.1.1 The email account does not exist.",
    )
    Suppression.objects.create(email="spam@example.com", reason=Suppression.Reason.COMPLAINED)
    page = manager_client.get(URL).content.decode()
    assert "gone@example.com" in page
    assert "Bounced" in page
    assert "550 5.1.1" in page
    assert "Marked as spam" in page
    assert "2 addresses" in page


def test_the_list_costs_the_same_queries_for_5_or_50_rows(manager_client) -> None:
    def queries(n: int) -> int:
        Suppression.objects.all().delete()
        campaign = make_campaign()
        Suppression.objects.bulk_create(
            Suppression(email=f"s{i}@example.com", reason="unsubscribed", campaign=campaign)
            for i in range(n)
        )
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(URL).status_code == 200
        return len(captured)

    assert queries(50) == queries(5)


def test_a_manager_adds_an_address_and_it_is_audited(manager, manager_client) -> None:
    response = manager_client.post(URL, {"email": " Someone@Example.com ", "detail": "asked"})
    assert response.status_code == 302
    row = Suppression.objects.get()
    assert (row.email, row.reason, row.detail) == ("someone@example.com", "manual", "asked")
    assert AuditEntry.objects.filter(action="suppression.add", actor=manager).exists()
    # Twice: still one row, and the manager is told.
    follow = manager_client.post(URL, {"email": "someone@example.com"}, follow=True)
    assert "already suppressed" in follow.content.decode()
    assert Suppression.objects.count() == 1


def test_a_bad_address_is_refused_and_changes_nothing(manager_client) -> None:
    response = manager_client.post(URL, {"email": "not-an-address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not Suppression.objects.exists()


def test_removing_lets_campaign_email_through_again(manager, manager_client) -> None:
    row = Suppression.objects.create(email="back@example.com", reason="unsubscribed")
    response = manager_client.post(reverse("campaigns:suppression_delete", args=[row.pk]))
    assert response.status_code == 302
    assert not Suppression.objects.exists()
    entry = AuditEntry.objects.get(action="suppression.remove")
    assert entry.detail == {"email": "back@example.com", "reason": "unsubscribed"}
    # Removing it again: a message, not an error.
    again = manager_client.post(reverse("campaigns:suppression_delete", args=[row.pk]), follow=True)
    assert "no longer on the list" in again.content.decode()


def test_search_and_export(manager_client) -> None:
    Suppression.objects.create(email="alpha@acme.example", reason="bounced")
    Suppression.objects.create(email="beta@other.example", reason="manual")
    page = manager_client.get(URL, {"q": "ACME"}).content.decode()
    assert "alpha@acme.example" in page
    assert "beta@other.example" not in page
    response = manager_client.get(reverse("campaigns:suppression_export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # BOM for Excel
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["email", "reason", "detail", "campaign", "since"]
    assert sorted(r[0] for r in rows[1:]) == ["alpha@acme.example", "beta@other.example"]


def test_advocates_and_reps_cannot_see_the_list(advocate_client, rep_client) -> None:
    assert advocate_client.get(URL).status_code == 403
    assert rep_client.get(URL).status_code == 403


def test_the_next_page_keeps_the_search(manager_client) -> None:
    Suppression.objects.bulk_create(
        Suppression(email=f"s{i}@a-b.example", reason="manual") for i in range(60)
    )
    page = manager_client.get(URL, {"q": "@a-b.example&x"})  # a search with an "&" in it
    assert page.context["querystring"] == "q=%40a-b.example%26x"
    page = manager_client.get(URL, {"q": "a-b.example"}).content.decode()
    assert "?q=a-b.example&amp;page=2" in page
