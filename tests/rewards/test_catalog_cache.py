"""The reward catalog is cached per advocate (core.fragments): a second visit costs the
signed-in floor, and each change made through a service shows on the next visit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.models import Reward
from rewards.services.catalog import redemption_cancel
from rewards.services.manage import reward_deactivate, reward_update
from tests.fragments import assert_a_hit_costs_the_floor, one_minute
from tests.rewards.factories import RewardFactory, give_points, redeem

pytestmark = pytest.mark.django_db

CATALOG = reverse("rewards:catalog")


def html(client, url: str = CATALOG, **headers: str) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_catalog_costs_the_floor_on_a_second_visit(settings, advocate_client) -> None:
    RewardFactory.create_batch(3)
    assert_a_hit_costs_the_floor(settings, advocate_client, CATALOG)


def test_its_htmx_results_cost_the_floor_on_a_second_visit(
    settings, advocate_client, htmx_headers
) -> None:
    RewardFactory(kind=Reward.Kind.SWAG)
    url = f"{CATALOG}?kind={Reward.Kind.SWAG}"
    assert_a_hit_costs_the_floor(settings, advocate_client, url, **htmx_headers)


def test_stock_another_advocate_takes_shows_on_the_next_visit(
    advocate_client, other_advocate, django_capture_on_commit_callbacks
) -> None:
    reward = RewardFactory(name="Hoodie", stock=3)
    with one_minute():
        assert "Only 3 left" in html(advocate_client)
        with django_capture_on_commit_callbacks(execute=True):
            redeem(other_advocate, reward)
        assert "Only 2 left" in html(advocate_client)


def test_a_cancelled_redemption_gives_its_unit_back_on_the_next_visit(
    advocate_client, other_advocate, manager, django_capture_on_commit_callbacks
) -> None:
    reward = RewardFactory(name="Hoodie", stock=1)
    redemption = redeem(other_advocate, reward)
    with one_minute():
        assert "Out of stock" in html(advocate_client)
        with django_capture_on_commit_callbacks(execute=True):
            redemption_cancel(redemption_id=redemption.pk, reason="Changed my mind", by=manager)
        page = html(advocate_client)
    assert "Out of stock" not in page
    assert "Only 1 left" in page


def test_my_new_balance_shows_on_the_next_visit(
    advocate, advocate_client, django_capture_on_commit_callbacks
) -> None:
    RewardFactory(name="Mug", points_cost=300)
    with one_minute():
        page = html(advocate_client)
        assert "<strong>0</strong> points to spend" in page
        assert "You can redeem this" not in page
        with django_capture_on_commit_callbacks(execute=True):
            give_points(advocate, 500)
        page = html(advocate_client)
    assert "<strong>500</strong> points to spend" in page
    assert "You can redeem this" in page


def test_a_new_price_shows_on_the_next_visit(
    advocate_client, manager, django_capture_on_commit_callbacks
) -> None:
    reward = RewardFactory(name="Mug", points_cost=300)
    with one_minute():
        assert "300 <span" in html(advocate_client)
        with django_capture_on_commit_callbacks(execute=True):
            reward_update(reward_id=reward.pk, points_cost=450, by=manager)
        assert "450 <span" in html(advocate_client)


def test_a_hidden_reward_leaves_the_catalog_on_the_next_visit(
    advocate_client, manager, django_capture_on_commit_callbacks
) -> None:
    reward = RewardFactory(name="Retired mug")
    with one_minute():
        assert "Retired mug" in html(advocate_client)
        with django_capture_on_commit_callbacks(execute=True):
            assert reward_deactivate(reward_id=reward.pk, by=manager)
        assert "Retired mug" not in html(advocate_client)


def test_htmx_gets_only_the_results_and_the_full_page_stays_whole(
    advocate_client, htmx_headers
) -> None:
    RewardFactory(name="Hoodie")
    with one_minute():
        assert "<html" in html(advocate_client)
        partial = html(advocate_client, **htmx_headers)
        assert "<html" not in partial
        assert partial.lstrip().startswith('<section id="results"')
        assert "Hoodie" in partial
        assert "<html" in html(advocate_client)
