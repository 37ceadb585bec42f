"""referral_create: the checks every path goes through, routing and the rep's email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from referrals.models import Method, Referral, RejectionReason, Stage
from referrals.services import (
    DailyLimitReached,
    ReferralError,
    SelfReferral,
    referral_create,
)
from tests.factories import AdvocateFactory, CompanyFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def _create(advocate, **kwargs):
    data = {
        "advocate_id": advocate.pk,
        "method": Method.LEAD_FORM,
        "referred_name": "Pat Prospect",
        "referred_email": "pat@prospect.example",
    } | kwargs
    return referral_create(**data)


def test_routes_to_owner_rep_and_emails_them(
    owned_advocate, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = _create(owned_advocate, referred_company="Prospect Inc")
    assert referral.stage == Stage.SUBMITTED
    assert referral.owner_rep == rep
    assert referral.referred_domain == "prospect.example"
    assert [m.to for m in mail.outbox] == [[rep.email]]
    assert "Pat Prospect" in mail.outbox[0].subject
    assert f"/referrals/pipeline/{referral.pk}/" in mail.outbox[0].body
    assert list(referral.changes.values_list("from_stage", "to_stage")) == [("", "submitted")]


def test_without_owner_goes_to_the_unassigned_queue_and_managers_hear(
    advocate, django_capture_on_commit_callbacks
):
    manager = ManagerFactory(email="boss@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        referral = _create(advocate)
    assert referral.owner_rep is None
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert "Unassigned" in mail.outbox[0].subject


def test_self_referral_is_refused(owned_advocate):
    with pytest.raises(SelfReferral):
        _create(owned_advocate, referred_email="ADA@example.com")
    assert not Referral.objects.exists()


def test_own_company_domain_is_refused(owned_advocate):
    domain = owned_advocate.company.domain
    for email in (f"colleague@{domain}", f"x@eu.{domain}"):
        with pytest.raises(SelfReferral, match="own company"):
            _create(owned_advocate, referred_email=email)
    assert not Referral.objects.exists()


def test_own_email_domain_is_refused_even_without_company_domain(rep):
    advocate = AdvocateFactory(user__email="me@bigcorp.example", company=None)
    with pytest.raises(SelfReferral):
        _create(advocate, referred_email="boss@bigcorp.example")


def test_same_email_within_180_days_is_a_duplicate_linked_to_the_first(owned_advocate):
    other = AdvocateFactory()
    first = _create(owned_advocate)
    second = _create(other, referred_email="PAT@prospect.example")
    assert second.stage == Stage.REJECTED
    assert second.rejection_reason == RejectionReason.DUPLICATE
    assert second.duplicate_of == first


def test_open_referral_for_same_domain_is_a_duplicate_but_closed_one_is_not(owned_advocate):
    first = _create(owned_advocate)
    dupe = _create(owned_advocate, referred_email="other@prospect.example")
    assert dupe.duplicate_of == first
    Referral.objects.filter(pk=first.pk).update(stage=Stage.LOST)
    again = _create(owned_advocate, referred_email="third@prospect.example")
    assert again.stage == Stage.SUBMITTED


def test_free_mail_domains_are_not_companies(owned_advocate):
    _create(owned_advocate, referred_email="a@gmail.com")
    second = _create(owned_advocate, referred_email="b@gmail.com")
    assert second.stage == Stage.SUBMITTED
    assert second.referred_domain == ""


def test_older_than_180_days_is_not_a_duplicate(owned_advocate):
    _create(owned_advocate, created_at=timezone.now() - timedelta(days=181))
    fresh = _create(owned_advocate)
    assert fresh.stage == Stage.SUBMITTED


def test_duplicate_does_not_email_the_rep(owned_advocate, django_capture_on_commit_callbacks):
    _create(owned_advocate)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _create(owned_advocate)
    assert mail.outbox == []


def test_daily_limit(owned_advocate, settings):
    settings.REFERRAL_DAILY_LIMIT = 2
    _create(owned_advocate, referred_email="a@one.example")
    _create(owned_advocate, referred_email="b@two.example")
    with pytest.raises(DailyLimitReached):
        _create(owned_advocate, referred_email="c@three.example")
    assert Referral.objects.count() == 2
    yesterday = timezone.now() - timedelta(days=1)
    _create(owned_advocate, referred_email="d@four.example", created_at=yesterday)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"referred_email": "not-an-email"}, "not a valid email"),
        ({"referred_name": "  "}, "name is required"),
        ({"method": "carrier_pigeon"}, "Unknown referral method"),
    ],
)
def test_bad_input_changes_nothing(owned_advocate, kwargs, message):
    with pytest.raises(ReferralError, match=message):
        _create(owned_advocate, **kwargs)
    assert not Referral.objects.exists()


def test_inactive_advocate_cannot_refer(owned_advocate):
    owned_advocate.status = "paused"
    owned_advocate.save()
    with pytest.raises(ReferralError):
        _create(owned_advocate)


def test_external_id_is_unique(owned_advocate):
    _create(owned_advocate, external_id="crm-1")
    with pytest.raises(ReferralError, match="already exists"):
        _create(owned_advocate, external_id="crm-1", referred_email="x@y.example")
    assert Referral.objects.count() == 1


def test_company_domain_subdomain_match_is_not_fooled_by_suffix(rep):
    company = CompanyFactory(domain="acme.com")
    advocate = AdvocateFactory(company=company, user__email="me@acme.com")
    referral = _create(advocate, referred_email="buyer@notacme.com")
    assert referral.stage == Stage.SUBMITTED
