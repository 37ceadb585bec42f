"""The audit log: manager actions leave an entry (who, what, on what), committed with the
action itself; managers read it at /console/audit/; nobody edits it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.services import invitation_create
from challenges import services as challenge_services
from challenges.models import Challenge
from challenges.services.progress import LevelRow, levels_save
from core.audit import audit_record
from core.models import AuditEntry
from references.services import weights_update
from referrals.models import Stage
from referrals.services import referral_advance
from rewards.services import catalog, manage
from tests import factories
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, redeem

pytestmark = pytest.mark.django_db


def _only(action: str) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(action=action))
    assert len(entries) == 1, f"{action}: {len(entries)} entries"
    return entries[0]


# --- Actions leave entries -----------------------------------------------------------


def test_review_decisions_are_recorded_with_the_reviewer(advocate, manager) -> None:
    first, second = SubmissionFactory.create_batch(2, advocate=advocate)
    challenge_services.submission_approve(submission_id=first.pk, reviewer=manager)
    challenge_services.submission_approve(submission_id=first.pk, reviewer=manager)  # no-op
    challenge_services.submission_reject(submission_id=second.pk, reviewer=manager, reason="Blurry")
    approved = _only("submission.approve")
    assert (approved.actor, approved.target_type, approved.target_id) == (
        manager,
        "challenges.submission",
        str(first.pk),
    )
    assert approved.detail["points"] == first.challenge.points
    assert _only("submission.reject").detail["reason"] == "Blurry"


def test_a_refused_reversal_leaves_no_entry(advocate, manager) -> None:
    """The entry commits with the action: a rejection rolled back records nothing."""
    submission = SubmissionFactory(advocate=advocate)
    challenge_services.submission_approve(submission_id=submission.pk, reviewer=manager)
    catalog.reward_redeem(
        reward_id=RewardFactory(points_cost=submission.challenge.points).pk,
        advocate_id=advocate.pk,
        idempotency_key="spend-it",
    )
    with pytest.raises(challenge_services.ReviewError):
        challenge_services.submission_reject(
            submission_id=submission.pk, reviewer=manager, reason="Fake"
        )
    assert not AuditEntry.objects.filter(action="submission.reject").exists()


def test_fulfilment_steps_are_recorded_without_the_gift_card_code(advocate, manager) -> None:
    card = redeem(advocate, RewardFactory(kind="gift_card"))
    catalog.redemption_fulfil(redemption_id=card.pk, note="CODE-SECRET-123", by=manager)
    refunded = redeem(advocate, RewardFactory())
    catalog.redemption_cancel(redemption_id=refunded.pk, reason="Out of stock", by=manager)
    catalog.redemption_cancel(redemption_id=refunded.pk, reason="again", by=manager)  # no-op
    fulfil = _only("redemption.fulfil")
    assert fulfil.actor == manager
    assert "CODE-SECRET-123" not in str(fulfil.detail)
    cancel = _only("redemption.cancel")
    assert cancel.detail["reason"] == "Out of stock"
    assert cancel.detail["points"] == refunded.points


def test_console_edits_are_recorded(manager, manager_client) -> None:
    manager_client.post(
        reverse("rewards:create"),
        {
            "name": "Hoodie",
            "description": "Warm.",
            "kind": "swag",
            "points_cost": "300",
            "is_active": "on",
        },
    )
    reward = _only("reward.create")
    assert reward.actor == manager
    assert reward.target_repr == "Hoodie"
    manager_client.post(
        reverse("rewards:edit", args=[reward.target_id]),
        {
            "name": "Hoodie",
            "description": "Warm.",
            "kind": "swag",
            "points_cost": "450",
            "is_active": "on",
        },
    )
    assert _only("reward.edit").detail == {"points_cost": 450}
    manager_client.post(reverse("rewards:deactivate", args=[reward.target_id]))
    assert _only("reward.deactivate").actor == manager

    challenge = ChallengeFactory(status=Challenge.Status.DRAFT)
    manager_client.post(reverse("challenges:archive", args=[challenge.pk]))
    assert _only("challenge.archive").target_id == str(challenge.pk)


def test_invitations_stage_changes_weights_and_levels_are_recorded(rep, manager, advocate) -> None:
    invitation_create(email="new@example.com", invited_by=rep)
    invitation_create(email="new@example.com", invited_by=rep)
    assert _only("invitation.send").actor == rep
    assert _only("invitation.resend").detail["email"] == "new@example.com"

    referral = ReferralFactory(advocate=advocate)
    referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED, actor=rep)
    # The CRM (no person) moves it on: that is in the referral's own history, not here.
    referral_advance(referral_id=referral.pk, stage=Stage.WON, amount=Decimal("5000"))
    stage = _only("referral.stage")
    assert stage.detail["from"] == Stage.SUBMITTED
    assert stage.detail["to"] == Stage.QUALIFIED

    weights_update(by=manager, industry=7)
    assert _only("reference.weights").detail["industry"][1] == 7

    levels_save(rows=[LevelRow(id=None, name="Starter", threshold=0)], by=manager)
    assert "Starter (0)" in _only("levels.save").detail["levels"]


def test_bad_input_records_nothing(manager) -> None:
    with pytest.raises(ValidationError):
        manage.reward_create(name="", points_cost=-1, kind="swag", by=manager)
    assert not AuditEntry.objects.exists()


# --- The audit page ------------------------------------------------------------------


def _entries(n: int, actor, action: str = "reward.edit") -> None:
    for _ in range(n):
        audit_record(actor=actor, action=action, target=RewardFactory())


def test_the_page_lists_entries_newest_first(manager_client, manager) -> None:
    audit_record(actor=manager, action="reward.create", detail={"name": "Old"})
    audit_record(actor=manager, action="redemption.cancel", detail={"reason": "Newest"})
    body = manager_client.get(reverse("core:audit")).content.decode()
    assert body.index("redemption.cancel") < body.index("reward.create")
    assert "Newest" in body
    assert manager.email in body


def test_filters_by_action_and_by_actor(manager_client, manager, rep) -> None:
    audit_record(actor=manager, action="reward.create", detail={"name": "Managers"})
    audit_record(actor=rep, action="invitation.send", detail={"email": "reps@example.com"})
    by_action = manager_client.get(reverse("core:audit"), {"action": "invitation.send"})
    assert "reps@example.com" in by_action.content.decode()
    assert "Managers" not in by_action.content.decode()
    by_actor = manager_client.get(reverse("core:audit"), {"actor": manager.pk})
    assert "Managers" in by_actor.content.decode()
    assert "reps@example.com" not in by_actor.content.decode()


@pytest.mark.parametrize("query", [{"action": "nope"}, {"actor": "x1"}, {"page": "999"}])
def test_unknown_filters_show_everything_instead_of_failing(manager_client, manager, query) -> None:
    audit_record(actor=manager, action="reward.create", detail={"name": "Shown"})
    response = manager_client.get(reverse("core:audit"), query)
    assert response.status_code == 200
    assert "Shown" in response.content.decode()


def test_htmx_gets_only_the_results(manager_client, manager, htmx_headers) -> None:
    audit_record(actor=manager, action="reward.create")
    body = manager_client.get(reverse("core:audit"), **htmx_headers).content.decode()
    assert 'id="results"' in body
    assert "<html" not in body
    assert 'id="f-action"' not in body


def test_query_count_does_not_grow_with_entries(manager_client, manager, rep) -> None:
    url = reverse("core:audit")
    _entries(3, manager)
    manager_client.get(url)  # warm: per-session and per-process first-request work
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    _entries(60, rep, "invitation.send")
    _entries(10, factories.ManagerFactory(), "challenge.edit")
    with CaptureQueriesContext(connection) as many:
        body = manager_client.get(url).content.decode()
    assert len(few) == len(many)
    assert "Page 1 of 2" in body


def test_the_admin_shows_entries_but_cannot_change_them(client, manager) -> None:
    entry = audit_record(actor=manager, action="reward.create")
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code == 403
    page = client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # read-only view


def test_sending_a_shortlist_to_the_prospect_is_recorded(rep) -> None:
    from references.services import request_send_to_prospect
    from tests.references.factories import ReferenceRequestFactory

    alice = factories.AdvocateFactory(reference_opt_in=True)
    request = ReferenceRequestFactory(rep=rep, prospect_name="Percy Prospect")
    request_send_to_prospect(request=request, by=rep)
    entry = _only("reference.send_to_prospect")
    assert entry.actor == rep
    assert entry.detail["shortlist"] == [alice.pk]
