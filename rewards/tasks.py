"""Celery tasks of the rewards app: thin, each takes ids and calls one function."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import RETRY
from rewards import emails
from rewards.services import fulfilment, ledger

# celery's stubs refuse a dict[str, object] as keyword arguments.
RETRY_OPTIONS: dict[str, Any] = RETRY


@shared_task(**RETRY_OPTIONS)
def redemption_notify(redemption_id: int, step: str) -> str:
    """Email the advocate about one step of a redemption. Safe to run twice."""
    return emails.redemption_deliver(redemption_id=redemption_id, step=step)


@shared_task(**RETRY_OPTIONS)
def welcome_points_award(advocate_id: int, invitation_id: int) -> None:
    """The welcome points of a member who just joined. Safe to run twice (keyed)."""
    ledger.welcome_points_award(advocate_id=advocate_id, invitation_id=invitation_id)


@shared_task(name="rewards.tasks.provider_order_place", **RETRY_OPTIONS)
def provider_order_place(redemption_id: int) -> str:
    """Order an approved redemption from its provider. Safe to run twice (lease + the
    provider's idempotency key); retried while the provider does not answer."""
    return fulfilment.provider_order_place(redemption_id=redemption_id)


@shared_task(name="rewards.tasks.provider_orders_poll")
def provider_orders_poll() -> str:
    """Beat: provider orders no webhook has moved, and placements that stalled."""
    return fulfilment.provider_orders_poll()


@shared_task(name="rewards.tasks.provider_balance_refresh", **RETRY_OPTIONS)
def provider_balance_refresh() -> str:
    """Beat: the provider's funding balance, for the console's warning."""
    return fulfilment.provider_balance_refresh()
