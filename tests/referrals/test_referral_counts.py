"""``Advocate.referral_count``, what the segment filter "has referred" reads, follows every
write that changes it: a referral submitted (a duplicate does not count), rejected,
imported, created by the CRM, changed or deleted in the admin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from advocates.models import Advocate
from campaigns.segments import segment_advocates
from referrals.models import Method, Referral, RejectionReason, Stage
from referrals.services import imports, referral_advance, referral_create
from tests.factories import AdvocateFactory
from tests.referrals.crm import post_event
from tests.referrals.test_imports import REF_HEADER, referral_rows

pytestmark = pytest.mark.django_db


def _refer(advocate: Advocate, email: str = "pat@prospect.example", **extra: object) -> Referral:
    return referral_create(
        advocate_id=advocate.pk,
        method=Method.LEAD_FORM,
        referred_name="Pat Prospect",
        referred_email=email,
        **extra,
    )


def _referred(advocate: Advocate) -> bool:
    """In the segment "has referred" (and so not in "has not referred")."""
    yes = segment_advocates({"has_referred": True}).filter(pk=advocate.pk).exists()
    no = segment_advocates({"has_referred": False}).filter(pk=advocate.pk).exists()
    assert yes != no
    return yes


def _count(advocate: Advocate) -> int:
    advocate.refresh_from_db(fields=["referral_count"])
    return advocate.referral_count


def test_a_submitted_referral_counts_and_a_duplicate_does_not(owned_advocate) -> None:
    other = AdvocateFactory()
    assert not _referred(owned_advocate)
    _refer(owned_advocate)
    assert _count(owned_advocate) == 1
    assert _referred(owned_advocate)

    duplicate = _refer(other)  # the same person, referred again: created rejected
    assert duplicate.stage == Stage.REJECTED
    assert _count(other) == 0
    assert not _referred(other)


def test_rejecting_a_referral_takes_it_out_of_the_count(owned_advocate, rep) -> None:
    first = _refer(owned_advocate)
    second = _refer(owned_advocate, email="sam@elsewhere.example")
    assert _count(owned_advocate) == 2

    referral_advance(
        referral_id=first.pk, stage=Stage.REJECTED, reason=RejectionReason.INVALID, actor=rep
    )
    assert _count(owned_advocate) == 1
    assert _referred(owned_advocate)

    referral_advance(
        referral_id=second.pk, stage=Stage.REJECTED, reason=RejectionReason.INVALID, actor=rep
    )
    assert _count(owned_advocate) == 0
    assert not _referred(owned_advocate)


def test_other_stage_changes_keep_the_count(owned_advocate, rep) -> None:
    referral = _refer(owned_advocate)
    for stage in (Stage.QUALIFIED, Stage.LOST):
        referral_advance(referral_id=referral.pk, stage=stage, actor=rep)
        assert _count(owned_advocate) == 1
        assert _referred(owned_advocate)


def test_the_import_counts_its_referrals_set_wise(owned_advocate) -> None:
    other = AdvocateFactory()
    # Referred before the file's first row (2026-01-05): that row is a duplicate.
    _refer(other, email="lead0@prospect0.example", created_at=datetime(2025, 12, 20, tzinfo=UTC))
    report = imports.referrals_import(
        source=REF_HEADER + referral_rows(owned_advocate.user.email, 3)
    )
    assert report.created == 3
    assert len(report.flagged) == 1
    assert _count(owned_advocate) == 2
    assert _referred(owned_advocate)
    assert _count(other) == 1


def test_a_referral_created_by_the_crm_counts(owned_advocate) -> None:
    status, _body = post_event(
        {
            "id": "evt_counts",
            "type": "referral.created",
            "advocate_email": owned_advocate.user.email,
            "referred_name": "Pat Prospect",
            "referred_email": "pat@prospect.example",
        }
    )
    assert status == 201
    assert _count(owned_advocate) == 1
    assert _referred(owned_advocate)


def test_the_admin_moving_or_deleting_a_referral_recounts(admin_client, owned_advocate) -> None:
    other = AdvocateFactory()
    referral = _refer(owned_advocate)

    # Moved to another advocate (the admin's change form, saved through its save_model).
    model_admin = admin.site._registry[Referral]
    referral.advocate = other
    model_admin.save_model(RequestFactory().post("/"), referral, form=None, change=True)
    assert (_count(owned_advocate), _count(other)) == (0, 1)
    assert not _referred(owned_advocate)
    assert _referred(other)

    response = admin_client.post(
        reverse("admin:referrals_referral_delete", args=[referral.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Referral.objects.exists()
    assert _count(other) == 0
    assert not _referred(other)


def test_the_admin_deleting_several_referrals_recounts(admin_client, owned_advocate) -> None:
    referrals = [_refer(owned_advocate, email=f"p{i}@prospect{i}.example") for i in range(2)]
    response = admin_client.post(
        reverse("admin:referrals_referral_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in referrals], "post": "yes"},
    )
    assert response.status_code == 302
    assert _count(owned_advocate) == 0
