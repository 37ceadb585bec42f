"""The hub's body is cached per advocate (core.fragments, issue 20): each write it
shows, made through its service, is on the next visit. The clock the keys round is held
mid-minute (``fragments_held``), so only the write can make the new value show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from advocates.models import GroupMembership, Notification
from advocates.services import groups as group_services
from challenges.models import Challenge
from challenges.services import challenge_archive
from challenges.services.progress import notifications_mark_read
from references import services as reference_services
from references.models import ReferenceRequest
from referrals.models import Stage
from referrals.services import referral_advance
from rewards.services.ledger import Award, points_award, points_award_many
from rewards.services.manage import reward_deactivate
from tests import factories
from tests.challenges.factories import ChallengeFactory
from tests.references.factories import CandidateFactory, ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, give_points

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

HUB = reverse("advocates:hub")


def hub(client) -> str:
    response = client.get(HUB)
    assert response.status_code == 200
    return response.content.decode()


def test_a_second_visit_is_the_cached_body(
    advocate, advocate_client, django_assert_max_num_queries
):
    hub(advocate_client)
    hub(advocate_client)  # the first visits may set things up (the referral link)
    # The user with their roles and advocate id; the body from the cache.
    with django_assert_max_num_queries(1):
        assert "Points to spend" in hub(advocate_client)


def test_points_awarded_show(advocate, advocate_client, django_capture_on_commit_callbacks):
    hub(advocate_client)
    with django_capture_on_commit_callbacks(execute=True):
        points_award(
            advocate_id=advocate.pk, amount=1234, reason="Spoke at a meetup", idempotency_key="h1"
        )
    page = hub(advocate_client)
    assert "1,234" in page
    assert "Spoke at a meetup" in page


def test_points_awarded_set_wise_show(
    advocate, advocate_client, django_capture_on_commit_callbacks
):
    """The bulk path writes with COPY/UPDATE: no model signal, the service drops it."""
    hub(advocate_client)
    with django_capture_on_commit_callbacks(execute=True):
        points_award_many(
            awards=[
                Award(
                    advocate_id=advocate.pk,
                    amount=4321,
                    reason="Imported win",
                    idempotency_key="b1",
                )
            ]
        )
    page = hub(advocate_client)
    assert "4,321" in page
    assert "Imported win" in page


def test_a_challenge_archived_goes(advocate, advocate_client, manager) -> None:
    challenge = ChallengeFactory(title="Record a video")
    assert "Record a video" in hub(advocate_client)
    challenge_archive(challenge_id=challenge.pk, by=manager)
    assert "Record a video" not in hub(advocate_client)


def test_a_reward_hidden_goes(advocate, advocate_client, manager) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(name="Hoodie", points_cost=100)
    assert "Hoodie" in hub(advocate_client)
    reward_deactivate(reward_id=reward.pk, by=manager)
    assert "Hoodie" not in hub(advocate_client)


def test_a_referral_moved_by_the_rep_shows_its_stage(advocate, advocate_client, rep) -> None:
    referral = ReferralFactory(advocate=advocate, referred_name="Grace Hopper")
    assert "Grace Hopper" in hub(advocate_client)
    assert "Qualified" not in hub(advocate_client)
    referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED, actor=rep)
    assert "Qualified" in hub(advocate_client)


def test_notifications_read_go(advocate, advocate_client) -> None:
    Notification.objects.create(advocate=advocate, message="You reached Champion")
    assert "You reached Champion" in hub(advocate_client)
    notifications_mark_read(advocate_id=advocate.pk)
    assert "You reached Champion" not in hub(advocate_client)


def test_a_group_joined_opens_its_challenges(advocate, advocate_client, manager) -> None:
    group = factories.GroupFactory(name="Berlin")
    ChallengeFactory(title="Berlin meetup", audience=Challenge.Audience.GROUP, audience_group=group)
    assert "Berlin meetup" not in hub(advocate_client)
    asking = factories.GroupMembershipFactory(
        group=group, advocate=advocate, status=GroupMembership.Status.PENDING
    )
    assert "Berlin meetup" not in hub(advocate_client)
    group_services.group_request_decide(membership_id=asking.pk, approve=True, by=manager)
    assert "Berlin meetup" in hub(advocate_client)


def test_a_reference_ask_declined_goes(
    advocate, advocate_client, rep, django_capture_on_commit_callbacks
):
    advocate.reference_opt_in = True
    advocate.save()
    request = ReferenceRequestFactory(
        rep=rep,
        status=ReferenceRequest.Status.WITH_PROSPECT,
        link_nonce="n",
        prospect_name="Lin Wu",
    )
    candidate = CandidateFactory(request=request, advocate=advocate, rank=1)
    with django_capture_on_commit_callbacks(execute=True):
        ask = reference_services.prospect_choose(request=request, candidate_id=candidate.pk)
    assert "Lin Wu" in hub(advocate_client)
    with django_capture_on_commit_callbacks(execute=True):
        reference_services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=False, reason="Busy")
    assert "Reference calls waiting for you" not in hub(advocate_client)


def test_each_advocate_sees_their_own_body(
    advocate, advocate_client, other_advocate_client
) -> None:
    points_award(advocate_id=advocate.pk, amount=777, reason="Ada's talk", idempotency_key="o1")
    assert "Ada&#x27;s talk" in hub(advocate_client) or "Ada's talk" in hub(advocate_client)
    other = hub(other_advocate_client)
    assert "talk" not in other
    assert "Otto" in other
