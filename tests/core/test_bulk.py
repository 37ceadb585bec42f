"""core.bulk.bulk_insert: bulk_create's result, through COPY on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from advocates.models import Company
from core.bulk import bulk_insert

pytestmark = pytest.mark.django_db


def test_rows_are_written_and_the_objects_get_their_keys() -> None:
    made = bulk_insert(Company, [Company(name="Acme", domain="acme.example"), Company(name="Bo")])
    assert all(company.pk for company in made)
    assert not made[0]._state.adding
    stored = {c.pk: (c.name, c.domain) for c in Company.objects.all()}
    assert stored == {made[0].pk: ("Acme", "acme.example"), made[1].pk: ("Bo", "")}
    # The sequence moved past them: the next row gets a key of its own.
    assert Company.objects.create(name="Cy").pk not in stored


def test_constraints_hold_and_a_refused_batch_writes_nothing() -> None:
    Company.objects.create(name="Acme", domain="acme.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(Company, [Company(name="New"), Company(name="Acme 2", domain="ACME.example")])
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]
