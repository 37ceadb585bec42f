"""The KPIs' rollups (ReferralDay, ReferralWonTime, ReferrerDays) follow every write of
a referral or its rewards: each test writes through a service (or the admin) and reads
the KPIs of the referral's day, uncached, at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from referrals.kpis import referral_kpis
from referrals.models import (
    Method,
    Referral,
    ReferralDay,
    ReferralReward,
    ReferrerDays,
    RejectionReason,
    Stage,
    day_number,
)
from referrals.services import imports, referral_advance, referral_create
from tests.referrals.factories import RewardRuleFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.now(UTC).date()


def _today() -> dict:
    return referral_kpis(start=TODAY, end=TODAY + timedelta(days=1))


def _create(advocate, email: str = "pat@prospect.example", **kwargs) -> Referral:
    return referral_create(
        advocate_id=advocate.pk,
        method=Method.EMAIL,
        referred_name="Pat Prospect",
        referred_email=email,
        **kwargs,
    )


def test_a_referral_made_counts_at_once(advocate) -> None:
    assert _today()["referrals"] == 0
    _create(advocate)
    figures = _today()
    assert (figures["referrals"], figures["referring_advocates"]) == (1, 1)
    assert figures["by_method"]["email"]["referrals"] == 1
    assert ReferrerDays.objects.get(advocate=advocate).days == [day_number(TODAY)]


def test_won_with_an_amount_then_a_new_amount_then_lost(advocate) -> None:
    RewardRuleFactory(fixed_points=500)
    referral = _create(advocate)
    created = referral.created_at

    referral_advance(
        referral_id=referral.pk,
        stage=Stage.WON,
        amount=Decimal("1200.00"),
        occurred_at=created + timedelta(days=3, hours=1),
    )
    figures = _today()
    assert (figures["won"], figures["revenue_won"], figures["rewards_points"]) == (
        1,
        "1200.00",
        500,
    )
    assert figures["median_days_to_won"] == 3.04
    assert figures["top_1_percent"]["share_of_won"] == 1.0
    assert ReferrerDays.objects.get(advocate=advocate).won_days == [day_number(TODAY)]

    later = created + timedelta(days=4)
    referral_advance(
        referral_id=referral.pk, stage=Stage.WON, amount=Decimal("900.00"), occurred_at=later
    )
    assert _today()["revenue_won"] == "900.00"

    referral_advance(referral_id=referral.pk, stage=Stage.LOST, occurred_at=later)
    figures = _today()
    assert (figures["won"], figures["revenue_won"], figures["median_days_to_won"]) == (
        0,
        "0.00",
        None,
    )
    assert figures["rewards_points"] == 0  # the won reward was reversed
    assert ReferralReward.objects.get(referral=referral).status == "reversed"


def test_a_rejected_referral_leaves_every_figure(advocate) -> None:
    referral = _create(advocate)
    referral_advance(referral_id=referral.pk, stage=Stage.REJECTED, reason=RejectionReason.INVALID)
    figures = _today()
    assert (figures["referrals"], figures["referring_advocates"]) == (0, 0)
    assert ReferrerDays.objects.filter(advocate=advocate).count() == 0


def test_imported_referrals_count_on_their_days(owned_advocate) -> None:
    RewardRuleFactory(fixed_points=500)
    email = owned_advocate.user.email
    text = (
        "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
        "created_at,stage,stage_changed_at,deal_amount\n"
        f"SF-1,{email},Pat,pat@buyer.example,Buyer,verbal,2026-01-05,won,2026-01-15,15000\n"
        f"SF-2,{email},Quin,quin@other.example,Other,verbal,2026-01-06,submitted,,\n"
    )
    report = imports.referrals_import(source=text, max_rows=None)
    assert report.created == 2

    figures = referral_kpis(start=date(2026, 1, 5), end=date(2026, 1, 7))
    assert figures["by_method"]["verbal"] == {
        "referrals": 2,
        "won": 1,
        "conversion_rate": 0.5,
        "share_of_referrals": 1.0,
    }
    assert (figures["revenue_won"], figures["median_days_to_won"]) == ("15000.00", 10.0)
    assert figures["rewards_points"] > 0
    assert referral_kpis(start=date(2026, 1, 6), end=date(2026, 1, 7))["won"] == 0


def _admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_a_referral_moved_to_another_day_in_the_admin(advocate) -> None:
    referral = _create(advocate)
    referral.created_at -= timedelta(days=2)
    admin.site._registry[Referral].save_model(None, referral, None, True)

    assert _today()["referrals"] == 0
    earlier = TODAY - timedelta(days=2)
    assert referral_kpis(start=earlier, end=earlier + timedelta(days=1))["referrals"] == 1
    assert ReferrerDays.objects.get(advocate=advocate).days == [day_number(earlier)]


def test_a_referral_deleted_in_the_admin(admin_user, advocate) -> None:
    referral = _create(advocate)
    response = _admin_client(admin_user).post(
        reverse("admin:referrals_referral_delete", args=[referral.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Referral.objects.exists()
    assert _today()["referrals"] == 0
    assert not ReferrerDays.objects.exists()


def test_a_reward_deleted_in_the_admin(admin_user, advocate) -> None:
    RewardRuleFactory(fixed_points=500)
    referral = _create(advocate)
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal(10))
    assert _today()["rewards_points"] == 500
    reward = ReferralReward.objects.get(referral=referral)

    response = _admin_client(admin_user).post(
        reverse("admin:referrals_referralreward_delete", args=[reward.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert _today()["rewards_points"] == 0


def test_a_day_keeps_a_row_per_method(advocate) -> None:
    _create(advocate)
    assert sorted(ReferralDay.objects.values_list("method", flat=True)) == sorted(Method.values)
