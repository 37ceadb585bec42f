"""Webhook URLs are typed by a manager: Vouch does not become a way to reach the
machines around it (the cloud metadata service, the database, an admin port on
localhost). And the delivery log does not grow forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import events, webhooks
from core.models import WebhookDelivery, WebhookEndpoint
from tests.core.webhook_receiver import receiver

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address checked, not bound
        ("224.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_which_addresses_count_as_public(address: str, public: bool) -> None:
    assert webhooks.public_address(address) is public


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/x",
    ],
)
def test_a_manager_cannot_add_an_endpoint_on_a_private_address(
    manager_client, settings, url: str
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = manager_client.post(reverse("core:webhooks"), {"url": url})
    assert "a private or local address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_operator_can_allow_receivers_inside_the_network(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert webhooks.endpoint_create(url="http://10.0.0.5/hook", by=None).pk


def test_a_host_that_turns_private_after_it_was_added_gets_nothing(
    settings, django_capture_on_commit_callbacks
) -> None:
    # Added while it pointed elsewhere (or while allowed); now the name leads to loopback.
    with receiver() as hook:
        endpoint = webhooks.endpoint_create(url=hook.url, by=None)
        settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
        with django_capture_on_commit_callbacks(execute=True):
            events.emit("referral.created", {"referral": 1})
        assert hook.requests == []
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery.status == WebhookDelivery.Status.PENDING  # retried, in case DNS moves
        assert "not a public address" in delivery.last_error

        settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the control: allowed, it arrives
        with django_capture_on_commit_callbacks(execute=True):
            events.emit("referral.created", {"referral": 2})
        assert len(hook.requests) == 1


def test_the_log_keeps_pending_deliveries_and_the_last_days(settings) -> None:
    settings.WEBHOOK_LOG_DAYS = 30
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(url="https://example.com/hook", secret="whsec_x")
    status = WebhookDelivery.Status

    def delivery(days_ago: int, state: str) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=f"evt_{days_ago}_{state}",
            event_type="referral.created",
            payload={},
            status=state,
            created_at=now - timedelta(days=days_ago),
        )

    kept = [
        delivery(29, status.DELIVERED),
        delivery(45, status.PENDING),
        delivery(2, status.FAILED),
    ]
    delivery(31, status.DELIVERED)
    delivery(90, status.FAILED)

    assert webhooks.deliveries_purge(now=now, batch=1) == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {d.pk for d in kept}
    assert webhooks.deliveries_purge(now=now) == 0
