"""A reward limited to a group's members: hidden from others, and refused to them."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from advocates.models import GroupMembership
from rewards.models import Redemption, Reward
from rewards.services.catalog import RewardUnavailable, reward_redeem
from tests import factories
from tests.rewards.factories import RewardFactory, give_points

pytestmark = pytest.mark.django_db


def test_catalog_hides_a_group_reward_from_non_members(advocate, advocate_client) -> None:
    group = factories.GroupFactory(name="Champions")
    RewardFactory(name="Champions jacket", group=group, points_cost=10)
    RewardFactory(name="Sticker pack", points_cost=10)
    give_points(advocate, 100)
    page = advocate_client.get(reverse("rewards:catalog")).content.decode()
    assert "Sticker pack" in page
    assert "Champions jacket" not in page

    factories.GroupMembershipFactory(group=group, advocate=advocate)
    assert "Champions jacket" in advocate_client.get(reverse("rewards:catalog")).content.decode()


def test_a_non_member_cannot_redeem_a_group_reward(advocate, advocate_client) -> None:
    group = factories.GroupFactory()
    reward = RewardFactory(group=group, points_cost=10, stock=5)
    give_points(advocate, 100)
    url = reverse("rewards:redeem", args=[reward.pk])
    assert advocate_client.get(url).status_code == 404
    assert advocate_client.post(url, {"token": uuid.uuid4().hex}).status_code == 404
    # The service refuses too, whoever calls it (and a request is not membership).
    factories.GroupMembershipFactory(
        group=group, advocate=advocate, status=GroupMembership.Status.PENDING
    )
    with pytest.raises(RewardUnavailable, match="only for the members"):
        reward_redeem(reward_id=reward.pk, advocate_id=advocate.pk, idempotency_key="k1")
    advocate.refresh_from_db()
    reward.refresh_from_db()
    assert advocate.balance == 100
    assert reward.stock == 5
    assert not Redemption.objects.exists()


def test_a_member_redeems_a_group_reward(advocate, advocate_client) -> None:
    group = factories.GroupFactory()
    reward = RewardFactory(group=group, points_cost=10)
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    give_points(advocate, 100)
    response = advocate_client.post(
        reverse("rewards:redeem", args=[reward.pk]), {"token": uuid.uuid4().hex}
    )
    assert response.status_code == 302
    assert Redemption.objects.filter(advocate=advocate, reward=reward).exists()
    advocate.refresh_from_db()
    assert advocate.balance == 90


def test_manager_limits_a_reward_to_a_group(manager_client) -> None:
    group = factories.GroupFactory(name="Partners")
    response = manager_client.post(
        reverse("rewards:create"),
        {
            "name": "Partner summit seat",
            "kind": Reward.Kind.EXPERIENCE,
            "points_cost": "500",
            "is_active": "on",
            "group": group.pk,
            "provider_currency": "USD",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Reward.objects.get().group == group
    assert "Partners only" in manager_client.get(reverse("rewards:manage")).content.decode()
