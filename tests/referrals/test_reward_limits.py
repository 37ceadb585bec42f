"""Rewards that cannot run away: the program's maximum deal amount and maximum points per
event hold on every path (CRM API, rep form, CSV import, reward rules, the ledger)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import ProgramSettings
from referrals.models import CrmEvent, Referral, ReferralReward, RewardRule, Stage
from referrals.services import ReferralError, deal_amount_check, referral_advance
from referrals.services.imports import referrals_import
from referrals.webhooks import sign
from rewards.models import LedgerEntry
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

HUGE = "999999999999.99"  # what the issue saw: 19,999,999,999 points at 2 %
REF_HEADER = (
    "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
    "created_at,stage,stage_changed_at,deal_amount\n"
)


@pytest.fixture
def percent_rule():
    """2 % of the deal and no cap (the cap is optional)."""
    return RewardRule.objects.create(name="2 %", kind="percent", percent=Decimal(2))


@pytest.fixture
def referral(owned_advocate):
    return ReferralFactory(
        advocate=owned_advocate,
        external_id="SF-1",
        created_at=timezone.now() - timedelta(days=3),
    )


def _crm(event: dict):
    body = json.dumps(event).encode()
    return Client().post(
        "/api/crm/events",
        data=body,
        content_type="application/json",
        HTTP_VOUCH_SIGNATURE=sign(body, secret="whsec_test"),
    )


def _limits(*, amount: str | None = None, points: int | None = None) -> None:
    program = ProgramSettings.load()
    if amount is not None:
        program.max_deal_amount = Decimal(amount)
    if points is not None:
        program.max_points_per_event = points
    program.save()


def _nothing_paid(referral: Referral) -> None:
    referral.refresh_from_db()
    referral.advocate.refresh_from_db()
    assert (referral.stage, referral.deal_amount) == (Stage.SUBMITTED, None)
    assert referral.changes.count() == 0
    assert not LedgerEntry.objects.exists()
    assert referral.advocate.balance == 0


# --- The deal amount --------------------------------------------------------------------


def test_the_defaults_keep_points_far_from_32_bits():
    program = ProgramSettings.load()
    assert program.max_deal_amount == Decimal("100000000.00")
    assert program.max_points_per_event == 1_000_000
    assert program.max_points_per_event * 1000 < 2**31 - 1


def test_crm_event_with_a_huge_amount_is_refused_and_changes_nothing(referral, percent_rule):
    response = _crm(
        {
            "id": "evt_huge",
            "type": "referral.stage_changed",
            "referral": "SF-1",
            "stage": "won",
            "amount": HUGE,
            "occurred_at": timezone.now().isoformat(),
        }
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "The deal amount 999,999,999,999.99 is above the program's maximum deal "
        "amount of 100,000,000: check it, or ask a manager to raise the limit in the "
        "program settings."
    }
    _nothing_paid(referral)
    # Not stored: the CRM may send the same id again with the amount fixed.
    assert not CrmEvent.objects.exists()
    fixed = _crm(
        {
            "id": "evt_huge",
            "type": "referral.stage_changed",
            "referral": "SF-1",
            "stage": "won",
            "amount": "10000.00",
        }
    )
    assert fixed.status_code == 200
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 200


def test_the_limit_is_the_programs_own(referral, percent_rule):
    _limits(amount="5000")
    with pytest.raises(ReferralError, match="maximum deal amount of 5,000"):
        referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("5000.01"))
    _nothing_paid(referral)
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("5000"))
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 100


def test_deal_amount_check_is_the_one_rule_for_every_path():
    deal_amount_check(None)
    deal_amount_check(Decimal("100000000.00"))
    for bad, message in [
        (Decimal("100000000.01"), "above the program's maximum deal amount of 100,000,000"),
        (Decimal(-1), "cannot be negative"),
        (Decimal("NaN"), "must be a number"),
    ]:
        with pytest.raises(ReferralError, match=message):
            deal_amount_check(bad)


def test_the_reps_stage_form_refuses_a_huge_amount_with_the_message(
    referral, percent_rule, rep_client
):
    response = rep_client.post(
        reverse("referrals:advance", args=[referral.pk]),
        {"stage": "won", "amount": HUGE},
        follow=True,
    )
    assert response.status_code == 200
    shown = [(m.level, m.message) for m in response.context["messages"]]
    assert shown == [
        (
            messages.ERROR,
            "The deal amount 999,999,999,999.99 is above the program's maximum deal amount "
            "of 100,000,000: check it, or ask a manager to raise the limit in the program "
            "settings.",
        )
    ]
    _nothing_paid(referral)


def test_the_csv_import_reports_a_huge_amount_as_a_bad_row(owned_advocate, percent_rule):
    email = owned_advocate.user.email
    text = REF_HEADER + (
        f"SF-9,{email},Big Deal,big@bigco.example,BigCo,lead_form,2026-01-05,won,,{HUGE}\n"
        f"SF-10,{email},Fine Deal,fine@fineco.example,FineCo,lead_form,2026-01-05,won,,10000\n"
        f"SF-11,{email},Odd Deal,odd@oddco.example,OddCo,lead_form,2026-01-05,won,,1e40\n"
    )
    report = referrals_import(source=text)
    assert report.created == 1
    assert report.errors == [
        (
            2,
            "deal_amount: The deal amount 999,999,999,999.99 is above the program's maximum "
            "deal amount of 100,000,000: check it, or ask a manager to raise the limit in "
            "the program settings.",
        ),
        (
            4,
            "deal_amount: The deal amount 10,000,000,000,000,000,000,000,000,000,000,000,000,000 "
            "is above the program's maximum deal amount of 100,000,000: check it, or ask a "
            "manager to raise the limit in the program settings.",
        ),
    ]
    assert not Referral.objects.filter(external_id__in=["SF-9", "SF-11"]).exists()
    owned_advocate.refresh_from_db()
    assert owned_advocate.balance == 200


def test_the_csv_import_refuses_a_negative_or_infinite_amount_as_every_path_does(
    owned_advocate,
):
    email = owned_advocate.user.email
    text = REF_HEADER + (
        f"SF-12,{email},Minus,minus@minusco.example,MinusCo,lead_form,2026-01-05,won,,-5\n"
        f"SF-13,{email},Inf,inf@infco.example,InfCo,lead_form,2026-01-05,won,,Infinity\n"
        f"SF-14,{email},NaN,nan@nanco.example,NanCo,lead_form,2026-01-05,won,,NaN\n"
    )
    report = referrals_import(source=text)
    assert report.errors == [
        (2, "deal_amount: The deal amount cannot be negative."),
        (3, "deal_amount: The deal amount must be a number."),
        (4, "deal_amount: The deal amount must be a number."),
    ]
    assert report.created == 0
    assert not Referral.objects.exists()


# --- Points per event -------------------------------------------------------------------


def test_a_rule_without_a_cap_never_pays_above_the_maximum_per_event(referral, percent_rule):
    # 2 % of 100,000,000 is 2,000,000 points: the maximum per event is paid, no more.
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("100000000"))
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 1_000_000
    assert ReferralReward.objects.get(referral=referral).points == 1_000_000


def test_an_existing_rule_above_a_lowered_maximum_pays_the_maximum(referral):
    RewardRule.objects.create(name="old", kind="fixed", fixed_points=5000, qualified_points=900)
    _limits(points=800)
    referral_advance(referral_id=referral.pk, stage=Stage.WON)
    referral.advocate.refresh_from_db()
    assert referral.advocate.balance == 1600  # 800 qualified + 800 won
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [800, 800]


def _rule_form(**overrides: object) -> dict:
    return {
        "name": "Program rule",
        "is_active": "on",
        "kind": "percent",
        "fixed_points": "0",
        "percent": "2",
        "tiers": "[]",
        "cap_points": "",
        "qualified_points": "0",
        "count_tiers": "[]",
        "second_generation_points": "0",
    } | overrides


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fixed_points", "1000001", "1,000,001 points is above the program&#x27;s maximum"),
        ("qualified_points", "2000000", "2,000,000 points is above the program&#x27;s maximum"),
        ("cap_points", "5000000", "5,000,000 points is above the program&#x27;s maximum"),
        ("percent", "250", "Give a percent from 0 to 100."),
        (
            "tiers",
            '[{"min_amount": "0", "points": 100}, {"min_amount": "5000", "points": 3000000}]',
            "Tier 2: 3,000,000 points is above the program&#x27;s maximum",
        ),
        ("tiers", '[{"min_amount": "-5", "points": 100}]', "Tier 1: min_amount must be"),
        ("tiers", '[{"points": 100}]', "Tier 1: each tier must be"),
        ("tiers", '{"points": 100}', "Tiers must be a list"),
    ],
)
def test_the_reward_rule_form_refuses_points_above_the_maximum(admin_client, field, value, message):
    response = admin_client.post(
        reverse("admin:referrals_rewardrule_add"), _rule_form(**{field: value})
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not RewardRule.objects.exists()


def test_the_reward_rule_form_saves_a_sane_rule(admin_client):
    tiers = '[{"min_amount": "0", "points": 100}, {"min_amount": 10000, "points": 1000000}]'
    response = admin_client.post(
        reverse("admin:referrals_rewardrule_add"), _rule_form(kind="tiers", tiers=tiers)
    )
    assert response.status_code == 302
    rule = RewardRule.objects.get()
    assert rule.tiers == [
        {"min_amount": "0", "points": 100},
        {"min_amount": "10000", "points": 1_000_000},
    ]
