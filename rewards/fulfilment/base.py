"""The provider interface and what passes through it (rewards.fulfilment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class OrderRequest:
    """What to order for one redemption."""

    external_id: str
    recipient_name: str
    recipient_email: str
    denomination: Decimal
    currency: str
    products: list[str] = field(default_factory=list)
    campaign_id: str = ""


@dataclass(frozen=True)
class OrderSnapshot:
    """A provider order as the provider reports it (creation, look-up or poll).

    ``order_status``/``delivery_status`` are the provider's words; ``failed`` says the
    order will not reach the advocate (canceled, failed, delivery failed) and ``reason``
    why; ``delivered`` that it did.
    """

    order_id: str
    external_id: str
    reward_id: str
    order_status: str
    delivery_status: str
    delivery_method: str
    recipient_email: str
    delivered: bool
    failed: bool
    reason: str = ""


@dataclass(frozen=True)
class Balance:
    available_cents: int | None
    pending_cents: int | None
    currency: str = "USD"


class ProviderError(Exception):
    """A call that failed; the message is fit to show a manager."""


class OrderRefused(ProviderError):
    """The provider answered and will not place this order (funds, product, payload).

    Final for this attempt: the redemption goes back to the manual queue with the message.
    """


class OrderConflict(ProviderError):
    """The external id is already used by an order with other details (HTTP 409)."""


class ProviderUnavailable(ProviderError, OSError):
    """No answer, a timeout, a rate limit or a server error: the outcome is unknown.

    An OSError, so tasks retry it (core.tasks.RETRY); the order may exist, so the retry
    looks it up by external id first.
    """


class NotFound(ProviderError):
    pass


class Provider(Protocol):
    name: str
    label: str

    def order_create(self, order: OrderRequest) -> OrderSnapshot: ...

    def order_get(self, order_id_or_external_id: str) -> OrderSnapshot: ...

    def balance(self) -> Balance: ...

    def webhook_verify(self, *, body: bytes, signature: str) -> bool: ...
