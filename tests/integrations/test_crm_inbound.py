"""A page of CRM records is applied set-wise: the number of queries does not grow with
the page's size, and records match Vouch's companies and people rather than duplicating
them. (The records here are the normalized dataclasses the providers return; the
providers' own parsing is tested against recordings in test_crm_salesforce/hubspot.)"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from advocates.models import Company, Person
from integrations.crm import base, inbound
from integrations.crm.models import CrmCompany, CrmConnection, CrmContact, CrmDeal
from integrations.crm.providers import provider_for
from integrations.crm.tokens import BOX
from tests import factories

pytestmark = pytest.mark.django_db
WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def connection():
    return CrmConnection.objects.create(
        provider="salesforce", access_token_encrypted=BOX.encrypt("t")
    )


def companies(start: int, n: int) -> list[base.Company]:
    return [
        base.Company(
            external_id=f"001{i:06d}",
            name=f"Company {i}",
            domain=f"company{i}.example",
            industry="Software",
            employees=120,
            owner_id="005A",
            modified_at=WHEN,
        )
        for i in range(start, start + n)
    ]


def queries(apply) -> int:
    with CaptureQueriesContext(db) as captured:
        apply()
    return len(captured)


@pytest.mark.parametrize("kind", ["companies", "contacts", "deals"])
def test_queries_per_page_do_not_grow_with_the_page(connection, kind):
    provider = provider_for("salesforce")
    inbound.apply(connection, provider, "companies", companies(0, 60))

    def page(start: int, n: int) -> list:
        if kind == "companies":
            return companies(1000 + start, n)
        if kind == "contacts":
            return [
                base.Contact(
                    external_id=f"003{i:06d}",
                    email=f"person{i}@company{i % 60}.example",
                    first_name="P",
                    last_name=str(i),
                    company_id=f"001{i % 60:06d}",
                    modified_at=WHEN,
                )
                for i in range(start, start + n)
            ]
        return [
            base.Deal(
                external_id=f"006{i:06d}",
                name=f"Deal {i}",
                amount=Decimal(1000 + i),
                stage="Prospecting",
                company_id=f"001{i % 60:06d}",
                modified_at=WHEN,
            )
            for i in range(start, start + n)
        ]

    small = queries(lambda: inbound.apply(connection, provider, kind, page(0, 3)))
    large = queries(lambda: inbound.apply(connection, provider, kind, page(100, 60)))
    assert large == small
    # Read again, unchanged: nothing written.
    again = queries(lambda: inbound.apply(connection, provider, kind, page(100, 60)))
    assert again <= small


def test_a_crm_company_joins_the_vouch_company_with_its_domain_or_name(connection):
    by_domain = factories.CompanyFactory(name="Initech Inc", domain="initech.example")
    by_name = factories.CompanyFactory(name="Globex", domain="")
    records = [
        base.Company(external_id="A", name="Initech", domain="initech.example"),
        base.Company(external_id="B", name="GLOBEX", domain=""),
        base.Company(external_id="C", name="", domain=""),
        base.Company(external_id="D", name="", domain=""),
    ]
    done = inbound.companies_apply(connection, records)
    assert done.counts["matched"] == 2
    assert done.counts["created"] == 2
    links = {link.external_id: link.company_id for link in CrmCompany.objects.all()}
    assert links["A"] == by_domain.pk
    assert links["B"] == by_name.pk
    # Two nameless, domainless records are two companies, not one.
    assert links["C"] != links["D"]
    by_domain.refresh_from_db()
    assert by_domain.name == "Initech"  # the CRM's name wins
    assert Company.objects.count() == 4


def test_a_contact_joins_the_person_with_its_email(connection):
    person = Person.objects.create(full_name="Dana Lee", email="Dana@Acme.example")
    inbound.contacts_apply(
        connection, [base.Contact(external_id="P1", email="dana@acme.example", first_name="D")]
    )
    assert CrmContact.objects.get().person == person
    assert Person.objects.count() == 1


def test_deleted_or_missing_parents_leave_a_deal_without_them(connection):
    inbound.deals_apply(
        connection,
        provider_for("salesforce"),
        [base.Deal(external_id="X", name="Orphan", company_id="001GONE", owner_id="005GONE")],
    )
    deal = CrmDeal.objects.get()
    assert deal.company is None
    assert deal.owner is None
