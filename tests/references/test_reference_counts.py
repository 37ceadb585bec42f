"""``Advocate.reference_count``, what the segment filter "has given a reference call"
reads, follows every write that changes it: a call counted (the rep's record, both sides
confirming), a no-show (not counted), the admin changing or deleting asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from campaigns.segments import segment_advocates
from references import services
from references.models import Ask, Meeting, ReferenceRequest
from tests.factories import AdvocateFactory
from tests.references.factories import AskFactory, MeetingFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(advocate, rep) -> tuple[ReferenceRequest, Ask]:
    """A call agreed outside Vouch, for the rep to record."""
    request = ReferenceRequestFactory(rep=rep, status=ReferenceRequest.Status.SCHEDULED)
    return request, AskFactory(request=request, advocate=advocate, status=Ask.Status.ACCEPTED)


def _gave_a_call(advocate: Advocate) -> bool:
    """In the segment "has given a reference call" (and so not in its opposite)."""
    yes = segment_advocates({"has_reference": True}).filter(pk=advocate.pk).exists()
    no = segment_advocates({"has_reference": False}).filter(pk=advocate.pk).exists()
    assert yes != no
    return yes


def _count(advocate: Advocate) -> int:
    advocate.refresh_from_db(fields=["reference_count"])
    return advocate.reference_count


def test_a_recorded_call_counts(accepted, advocate) -> None:
    request, _ask = accepted
    assert not _gave_a_call(advocate)
    services.call_record(request=request, completed=True)
    assert _count(advocate) == 1
    assert _gave_a_call(advocate)


def test_a_no_show_does_not_count(accepted, advocate) -> None:
    request, _ask = accepted
    services.call_record(request=request, completed=False)
    assert _count(advocate) == 0
    assert not _gave_a_call(advocate)


def test_a_call_both_sides_confirm_counts(advocate, rep) -> None:
    request = ReferenceRequestFactory(rep=rep, status=ReferenceRequest.Status.SCHEDULED)
    ask = AskFactory(request=request, advocate=advocate, status=Ask.Status.ACCEPTED)
    meeting = MeetingFactory(
        ask=ask, status=Meeting.Status.SCHEDULED, starts_at=timezone.now() - timedelta(hours=1)
    )
    services.attendance_answer(meeting_id=meeting.pk, side="prospect", held=True)
    assert not _gave_a_call(advocate)
    services.attendance_answer(meeting_id=meeting.pk, side="advocate", held=True)
    assert _count(advocate) == 1
    assert _gave_a_call(advocate)


def test_the_admin_changing_or_deleting_asks_recounts(admin_client, accepted, advocate) -> None:
    request, ask = accepted
    services.call_record(request=request, completed=True)
    other = AdvocateFactory()

    # Moved to another advocate (the admin's change form, saved through its save_model).
    ask.refresh_from_db()
    ask.advocate = other
    admin.site._registry[Ask].save_model(RequestFactory().post("/"), ask, form=None, change=True)
    assert (_count(advocate), _count(other)) == (0, 1)
    assert not _gave_a_call(advocate)
    assert _gave_a_call(other)

    response = admin_client.post(
        reverse("admin:references_ask_delete", args=[ask.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert _count(other) == 0

    # Deleting a request deletes its asks.
    again = AskFactory(advocate=other, status=Ask.Status.COMPLETED)
    assert _count(other) == 1
    response = admin_client.post(
        reverse("admin:references_referencerequest_delete", args=[again.request_id]),
        {"post": "yes"},
    )
    assert response.status_code == 302
    assert not Ask.objects.exists()
    assert _count(other) == 0
    assert not _gave_a_call(other)
