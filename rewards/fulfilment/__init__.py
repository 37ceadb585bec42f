"""Fulfilment providers: who sends a reward when a manager does not.

A provider takes an order for one redemption and reports what became of it; the
services (rewards.services.fulfilment) keep the state machine and fall back to the
manual queue when a provider refuses. Tremendous (gift cards, charity donations,
prepaid cards) is the one provider so far; without its settings every reward stays
manual.
"""

from __future__ import annotations

from django.conf import settings

from rewards.fulfilment.base import (
    Balance,
    NotFound,
    OrderConflict,
    OrderRefused,
    OrderRequest,
    OrderSnapshot,
    Provider,
    ProviderError,
    ProviderUnavailable,
)
from rewards.fulfilment.tremendous import Tremendous

__all__ = [
    "PROVIDER_LABELS",
    "Balance",
    "NotFound",
    "OrderConflict",
    "OrderRefused",
    "OrderRequest",
    "OrderSnapshot",
    "Provider",
    "ProviderError",
    "ProviderUnavailable",
    "configured_providers",
    "provider_for",
]

PROVIDER_LABELS = {"tremendous": "Tremendous"}


def provider_for(name: str) -> Provider | None:
    """The configured provider called ``name``, or None (unknown or not configured)."""
    if name == "tremendous" and settings.TREMENDOUS_API_KEY:
        return Tremendous.from_settings()
    return None


def configured_providers() -> list[str]:
    return [name for name in PROVIDER_LABELS if provider_for(name) is not None]
