"""Every domain event reaches a webhook receiver on loopback exactly once, signed, with
a payload of ids and facts (emitted by the services, in their transactions)."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command

from advocates import links as advocate_links
from advocates import services as advocate_services
from campaigns.models import Campaign
from campaigns.sending.claim import finish_if_done
from challenges.models import Submission
from challenges.services import submission_approve
from core import webhooks
from core.models import WebhookDelivery
from references import services as reference_services
from references.models import ReferenceRequest
from referrals.models import Method, Referral, Stage
from referrals.services import referral_advance, referral_create
from rewards.services.catalog import redemption_fulfil, reward_redeem
from rewards.services.ledger import Award, points_award_many
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.core.webhook_receiver import receiver
from tests.factories import AdvocateFactory, InvitationFactory
from tests.references.factories import AskFactory
from tests.rewards.factories import RewardFactory

pytestmark = pytest.mark.django_db


def test_every_domain_event_reaches_the_receiver_once(
    manager, rep, settings, django_capture_on_commit_callbacks
) -> None:
    settings.WELCOME_POINTS = 100
    with receiver() as hook, django_capture_on_commit_callbacks(execute=True):
        endpoint = webhooks.endpoint_create(url=hook.url, by=manager)

        invitation = InvitationFactory(email="joiner@example.com", invited_by=rep)
        advocate = advocate_services.invitation_accept(
            token=advocate_links.invitation_token(invitation), password="a long pass phrase 42"
        )
        submission = SubmissionFactory(
            challenge=ChallengeFactory(points=200),
            advocate=advocate,
            status=Submission.Status.PENDING,
        )
        submission_approve(submission_id=submission.pk, reviewer=manager)
        redeemed = reward_redeem(
            reward_id=RewardFactory(points_cost=50).pk,
            advocate_id=advocate.pk,
            idempotency_key="redeem-1",
        )
        redemption_fulfil(redemption_id=redeemed.redemption.pk, note="Shipped", by=manager)
        referral = referral_create(
            advocate_id=advocate.pk,
            method=Method.EMAIL,
            referred_name="Rita Referred",
            referred_email="rita@prospect.example",
            referred_company="Prospect Inc",
        )
        referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED, actor=rep)
        ask = AskFactory(
            advocate=advocate, request__rep=rep, request__status=ReferenceRequest.Status.ASKED
        )
        reference_services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
        reference_services.call_record(request=ask.request, completed=True)
        campaign = Campaign.objects.create(
            name="Spring",
            kind=Campaign.Kind.choices[0][0],
            status=Campaign.Status.SENDING,
            subject="Hello",
            body="Hi",
        )
        finish_if_done(campaign.pk)
        others = AdvocateFactory.create_batch(2)
        points_award_many(
            awards=[
                Award(advocate_id=others[0].pk, amount=10, reason="Import", idempotency_key="i1"),
                Award(advocate_id=others[0].pk, amount=15, reason="Import", idempotency_key="i2"),
                Award(advocate_id=others[1].pk, amount=20, reason="Import", idempotency_key="i3"),
            ]
        )

    bodies = hook.verified(endpoint.secret)  # every signature checks out
    assert Counter(hook.types()) == {
        "advocate.joined": 1,
        # welcome, approval, redemption spend, call; the batch: one per advocate
        "points.changed": 6,
        "submission.approved": 1,
        "reward.redeemed": 1,
        "reward.fulfilled": 1,
        "referral.created": 1,
        "referral.stage_changed": 1,
        "reference.ask_accepted": 1,
        "reference.call_completed": 1,
        "campaign.sent": 1,
    }
    # Once each: every delivery delivered on its first attempt, no id seen twice.
    assert sorted(hook.ids()) == sorted(WebhookDelivery.objects.values_list("event_id", flat=True))
    assert len(set(hook.ids())) == len(hook.ids())
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}

    data = {body["type"]: body["data"] for body in bodies}
    assert data["advocate.joined"]["email"] == "joiner@example.com"
    assert data["submission.approved"]["points"] == 200
    assert data["referral.stage_changed"] | {"occurred_at": None} == {
        "referral": referral.pk,
        "external_id": "",
        "advocate": advocate.pk,
        "method": "email",
        "referred_company": "Prospect Inc",
        "owner_rep": rep.pk,
        "stage": "qualified",
        "previous_stage": "submitted",
        "deal_amount": None,
        "source": "rep",
        "occurred_at": None,
    }
    # The referred person's address stays in Vouch.
    assert all("rita@prospect.example" not in str(body) for body in bodies)
    batch = sorted(
        (body["data"]["advocate"], body["data"]["amount"], body["data"]["balance"])
        for body in bodies
        if body["type"] == "points.changed" and body["data"]["advocate"] != advocate.pk
    )
    assert batch == [(others[0].pk, 25, 25), (others[1].pk, 20, 20)]
    assert data["campaign.sent"]["messages"] == {"sent": 0, "failed": 0, "skipped": 0}


def test_no_endpoint_no_delivery_rows(manager, django_capture_on_commit_callbacks) -> None:
    submission = SubmissionFactory(status=Submission.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        submission_approve(submission_id=submission.pk, reviewer=manager)
    assert not WebhookDelivery.objects.exists()


def test_a_referral_import_emits_set_wise_and_a_second_run_emits_nothing(
    tmp_path, manager, advocate, django_capture_on_commit_callbacks
) -> None:
    text = (
        "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
        "created_at,stage,stage_changed_at,deal_amount\n"
        f"SF-1,{advocate.user.email},Lead 1,lead1@p1.example,P1,lead_form,2026-01-05,,,\n"
        f"SF-2,{advocate.user.email},Lead 2,lead2@p2.example,P2,lead_form,2026-01-05,"
        "qualified,2026-01-06,\n"
    )
    path = tmp_path / "referrals.csv"
    path.write_text(text, encoding="utf-8")
    with receiver() as hook, django_capture_on_commit_callbacks(execute=True):
        endpoint = webhooks.endpoint_create(
            url=hook.url, event_types=["referral.created", "referral.stage_changed"], by=manager
        )
        call_command("import_referrals", str(path), stdout=StringIO(), stderr=StringIO())
        call_command("import_referrals", str(path), stdout=StringIO(), stderr=StringIO())
    bodies = hook.verified(endpoint.secret)
    assert sorted(
        (body["type"], body["data"]["external_id"], body["data"]["stage"]) for body in bodies
    ) == [
        ("referral.created", "SF-1", "submitted"),
        ("referral.created", "SF-2", "submitted"),
        ("referral.stage_changed", "SF-2", "qualified"),
    ]
    assert {body["data"]["source"] for body in bodies} == {"import"}


def test_an_import_without_endpoints_builds_no_event_payloads(tmp_path, advocate) -> None:
    text = (
        "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
        "created_at,stage,stage_changed_at,deal_amount\n"
        f"SF-1,{advocate.user.email},Lead 1,lead1@p1.example,P1,lead_form,2026-01-05,"
        "qualified,2026-01-06,\n"
    )
    path = tmp_path / "referrals.csv"
    path.write_text(text, encoding="utf-8")
    with mock.patch(
        "referrals.services.imports.pipeline.referral_event_data", side_effect=AssertionError
    ) as built:
        call_command("import_referrals", str(path), stdout=StringIO(), stderr=StringIO())
    assert built.call_count == 0
    assert not WebhookDelivery.objects.exists()
    assert Referral.objects.filter(external_id="SF-1").exists()
