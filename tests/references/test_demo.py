"""The demo: a small graph whose match shows a 2nd-degree reason, and one open request."""

from __future__ import annotations

import io

import pytest

from advocates.models import Person, Relationship
from demo import references as demo
from references import matching
from references.models import Meeting, ReferenceRequest
from tests.factories import AdvocateFactory, CompanyFactory, RepFactory

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_shows_a_second_degree_path() -> None:
    RepFactory(email="rep@demo.vouch")
    AdvocateFactory(
        user__email="advocate@demo.vouch",
        user__first_name="Ada",
        industry="Healthcare",
        company=CompanyFactory(name="Acme Health", industry="Healthcare"),
        reference_opt_in=True,
    )
    AdvocateFactory(user__email="dana@demo.vouch", reference_opt_in=True)
    demo.load(io.StringIO())
    counts = (Person.objects.count(), Relationship.objects.count())
    demo.load(io.StringIO())
    assert (Person.objects.count(), Relationship.objects.count()) == counts
    request = ReferenceRequest.objects.get(prospect_email=demo.PROSPECT_EMAIL)
    assert request.rep.email == "rep@demo.vouch"
    assert request.status == ReferenceRequest.Status.OPEN
    ada = next(m for m in matching.rank(request) if m.advocate.user.first_name == "Ada")
    assert "Knows Percy through Carla Diaz (your colleague)" in ada.rep_reasons
    # Ada's call with Quinn is booked in Vouch, from the times she offered.
    meeting = Meeting.objects.get(ask__request__prospect_email=demo.BOOKED_EMAIL)
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.slots.count() == 3
    assert meeting.starts_at == meeting.slots.all()[1].starts_at
