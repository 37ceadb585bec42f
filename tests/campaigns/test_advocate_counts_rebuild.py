"""``manage.py advocate_counts_rebuild``: an operator's recount of the counts segment
filters read, after rows were changed behind the services' back."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from advocates.models import Advocate
from campaigns.segments import segment_advocates
from references.models import Ask
from referrals.models import Referral, Stage
from tests.factories import AdvocateFactory
from tests.references.factories import AskFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def _rebuild(*args: str) -> str:
    out = StringIO()
    call_command("advocate_counts_rebuild", *args, stdout=out)
    return out.getvalue()


def test_rebuild_recounts_every_advocate_in_batches() -> None:
    ann, bob, cid = (AdvocateFactory() for _ in range(3))
    ReferralFactory(advocate=ann)
    ReferralFactory(advocate=ann, stage=Stage.LOST)
    ReferralFactory(advocate=bob)
    AskFactory(advocate=cid, status=Ask.Status.COMPLETED)
    # A manual SQL fix: bob's referral rejected, ann's call recorded, cid's count broken.
    Referral.objects.filter(advocate=bob).update(stage=Stage.REJECTED, rejection_reason="invalid")
    Ask.objects.create(
        request=Ask.objects.get().request,
        advocate=ann,
        status=Ask.Status.COMPLETED,
        deadline=timezone.now(),
    )
    Advocate.objects.filter(pk=cid.pk).update(reference_count=5)

    out = _rebuild("--batch", "2")
    assert "referral_count changed for 1 advocate(s), reference_count for 2" in out
    counts = {
        pk: (made, given)
        for pk, made, given in Advocate.objects.values_list(
            "pk", "referral_count", "reference_count"
        )
    }
    assert counts == {ann.pk: (2, 1), bob.pk: (0, 0), cid.pk: (0, 1)}
    assert set(segment_advocates({"has_referred": True}).values_list("pk", flat=True)) == {ann.pk}
    assert set(segment_advocates({"has_reference": True}).values_list("pk", flat=True)) == {
        ann.pk,
        cid.pk,
    }

    # Nothing left to fix.
    assert "changed for 0 advocate(s), reference_count for 0" in _rebuild()
