"""The referral tracker is cached per advocate (core.fragments): a second visit costs the
signed-in floor, and each change made through a service shows on the next visit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from referrals.models import Stage
from referrals.services import referral_advance, referral_link_for, referral_link_visit
from tests.fragments import assert_a_hit_costs_the_floor, one_minute
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db

TRACKER = reverse("referrals:tracker")


def html(client) -> str:
    response = client.get(TRACKER)
    assert response.status_code == 200
    return response.content.decode()


def test_the_tracker_costs_the_floor_on_a_second_visit(
    settings, owned_advocate, advocate_client
) -> None:
    RewardRuleFactory()
    ReferralFactory.create_batch(3, advocate=owned_advocate)
    # The first visit ever creates the link, which drops the advocate's version: the
    # visit after that is the first hit.
    referral_link_for(advocate_id=owned_advocate.pk)
    assert_a_hit_costs_the_floor(settings, advocate_client, TRACKER)


def test_a_stage_the_rep_moves_shows_on_the_next_visit(
    owned_advocate, advocate_client, rep, django_capture_on_commit_callbacks
) -> None:
    referral = ReferralFactory(advocate=owned_advocate, referred_name="Mina Lead")
    with one_minute():
        assert ">Submitted</span>" in html(advocate_client)
        with django_capture_on_commit_callbacks(execute=True):
            referral_advance(referral_id=referral.pk, stage=Stage.OPPORTUNITY, actor=rep)
        page = html(advocate_client)
    assert ">Submitted</span>" not in page
    assert ">Opportunity</span>" in page


def test_a_won_referral_shows_its_reward_and_the_next_one_on_the_next_visit(
    owned_advocate, advocate_client, rep, django_capture_on_commit_callbacks
) -> None:
    RewardRuleFactory(fixed_points=750)
    referral = ReferralFactory(advocate=owned_advocate, referred_name="Mina Lead")
    with one_minute():
        page = html(advocate_client)
        assert "+750" not in page
        assert "(your 1st)" in page
        with django_capture_on_commit_callbacks(execute=True):
            referral_advance(
                referral_id=referral.pk, stage=Stage.WON, actor=rep, amount=Decimal("1000")
            )
        page = html(advocate_client)
    assert ">Won</span>" in page
    assert "+750" in page
    assert "(your 2nd)" in page


def test_a_visit_to_my_link_shows_on_the_next_visit(
    advocate, advocate_client, django_capture_on_commit_callbacks
) -> None:
    link = referral_link_for(advocate_id=advocate.pk)
    with one_minute():
        assert "0 visits so far" in html(advocate_client)
        with django_capture_on_commit_callbacks(execute=True):
            assert referral_link_visit(link=link, visitor_ids=["visitor-1"])
        assert "1 visit so far" in html(advocate_client)


def test_each_advocate_sees_their_own_tracker(
    advocate, advocate_client, other_advocate, other_advocate_client
) -> None:
    ReferralFactory(advocate=other_advocate, referred_name="Otto's lead")
    with one_minute():
        assert "Otto&#x27;s lead" in html(other_advocate_client)
        page = html(advocate_client)
    assert "Otto&#x27;s lead" not in page
    assert "No referrals yet" in page
