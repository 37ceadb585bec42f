"""The fulfilment queue is cached program-wide (core.fragments, issue 20): each write it
shows, made through its service, is on the next visit. The clock the keys round is held
mid-minute (``fragments_held``), so only the write can make the new value show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.models import ProviderOrder, Redemption
from rewards.services import catalog, fulfilment
from rewards.services.manage import reward_update
from tests.rewards.factories import RewardFactory, redeem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

URL = reverse("rewards:fulfilment")


def queue(client, query: str = "") -> str:
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def hoodie():
    return RewardFactory(name="Hoodie")


def test_a_second_visit_is_the_cached_body(
    advocate, hoodie, manager_client, django_assert_max_num_queries
) -> None:
    redeem(advocate, hoodie)
    queue(manager_client)
    # The user with their roles; the body from the cache.
    with django_assert_max_num_queries(1):
        assert "Hoodie" in queue(manager_client)


def test_a_redemption_made_shows(advocate, hoodie, manager_client) -> None:
    assert "Nothing to fulfil" in queue(manager_client)
    redeem(advocate, hoodie)
    assert "Hoodie" in queue(manager_client)


def test_each_step_shows(
    advocate, hoodie, manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    """A step is a conditional update: no model signal, the service drops the version."""
    redemption = redeem(advocate, hoodie)
    assert "badge--brand" not in queue(manager_client)
    with django_capture_on_commit_callbacks(execute=True):
        catalog.redemption_approve(redemption_id=redemption.pk, by=manager)
    assert "badge--brand" in queue(manager_client)  # approved
    with django_capture_on_commit_callbacks(execute=True):
        catalog.redemption_fulfil(redemption_id=redemption.pk, note="DHL 42", by=manager)
    assert "Nothing to fulfil" in queue(manager_client)
    assert "DHL 42" in queue(manager_client, "?status=fulfilled")


def test_a_provider_order_tried_again_shows(advocate, hoodie, manager, manager_client) -> None:
    redemption = redeem(advocate, hoodie)
    Redemption.objects.filter(pk=redemption.pk).update(status=Redemption.Status.APPROVED)
    ProviderOrder.objects.create(
        redemption=redemption,
        provider="tremendous",
        external_id=f"vouch-redemption-{redemption.pk}",
        state=ProviderOrder.State.FAILED,
        failure_reason="Balance too low",
    )
    assert "Back to manual: Balance too low" in queue(manager_client)
    # A conditional update (the task it queues runs after commit, not here).
    assert fulfilment.provider_order_retry(redemption_id=redemption.pk, by=manager)
    page = queue(manager_client)
    assert "Balance too low" not in page
    assert "Ordering" in page


def test_a_reward_renamed_shows(advocate, hoodie, manager, manager_client) -> None:
    redeem(advocate, hoodie)
    assert "Hoodie" in queue(manager_client)
    reward_update(reward_id=hoodie.pk, by=manager, name="Zip hoodie")
    assert "Zip hoodie" in queue(manager_client)
