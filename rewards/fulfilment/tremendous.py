"""Tremendous (https://developers.tremendous.com): gift cards, charity donations and
prepaid cards, ordered through its REST API v2 and emailed by Tremendous to the advocate.

The calls, as the official SDKs make them (tremendous-rewards/tremendous-python):

- ``POST /orders`` with ``external_id``: idempotent. The same ``external_id`` with the
  same payload returns the first order with HTTP 201 instead of ordering again; with a
  different payload, HTTP 409. 402 is "not enough funds in your account", 400/422 a
  refused payload (``{"errors": {"message", "payload"}}``), 429/5xx "try again".
- ``GET /orders/{id}``: ``id`` may be the ``external_id``, so an order whose creation
  timed out can be looked up before ordering again.
- ``GET /funding_sources``: ``meta.available_cents`` of the balance.
- Webhooks: ``Tremendous-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>``
  keyed with the webhook's private key (tremendous-for-platforms-sample-app).
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings

from rewards.fulfilment.base import (
    Balance,
    NotFound,
    OrderConflict,
    OrderRefused,
    OrderRequest,
    OrderSnapshot,
    ProviderError,
    ProviderUnavailable,
)

FAILED_ORDER_STATUSES = {"CANCELED", "FAILED"}
FAILED_DELIVERY_STATUSES = {"FAILED"}
SIGNATURE_HEADER = "Tremendous-Webhook-Signature"


def _error_text(response: requests.Response) -> str:
    """The error object's message and per-field messages, flattened for a manager."""
    try:
        errors = response.json().get("errors") or {}
    except ValueError:
        return response.text[:200]
    if not isinstance(errors, dict):
        return str(errors)[:300]
    parts = [str(errors.get("message") or "").strip()]

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, path)
        elif value:
            parts.append(f"{path}: {value}")

    walk(errors.get("payload") or {}, "")
    return "; ".join(part for part in parts if part)[:400]


def snapshot_from(order: dict[str, Any]) -> OrderSnapshot:
    rewards = order.get("rewards") or [{}]
    reward = rewards[0] or {}
    delivery = reward.get("delivery") or {}
    order_status = str(order.get("status") or "")
    delivery_status = str(delivery.get("status") or "")
    reason = ""
    failed = False
    if order_status in FAILED_ORDER_STATUSES:
        failed = True
        reason = f"Tremendous order {order.get('id')} is {order_status.lower()}."
    elif delivery_status in FAILED_DELIVERY_STATUSES:
        failed = True
        reason = (
            f"Tremendous could not deliver reward {reward.get('id')} (order {order.get('id')}, "
            "already paid): check the address and resend it from the Tremendous dashboard."
        )
    return OrderSnapshot(
        order_id=str(order.get("id") or ""),
        external_id=str(order.get("external_id") or ""),
        reward_id=str(reward.get("id") or ""),
        order_status=order_status,
        delivery_status=delivery_status,
        delivery_method=str(delivery.get("method") or ""),
        recipient_email=str((reward.get("recipient") or {}).get("email") or ""),
        delivered=not failed and order_status == "EXECUTED" and delivery_status == "SUCCEEDED",
        failed=failed,
        reason=reason,
    )


class Tremendous:
    name = "tremendous"
    label = "Tremendous"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        funding_source: str = "balance",
        campaign_id: str = "",
        webhook_secret: str = "",
        timeout: float = 20,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.funding_source = funding_source
        self.campaign_id = campaign_id
        self.webhook_secret = webhook_secret
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": "vouch (advocate marketing portal)",
            }
        )

    @classmethod
    def from_settings(cls) -> Tremendous:
        return cls(
            api_key=settings.TREMENDOUS_API_KEY,
            base_url=settings.TREMENDOUS_BASE_URLS[settings.TREMENDOUS_ENVIRONMENT],
            funding_source=settings.TREMENDOUS_FUNDING_SOURCE,
            campaign_id=settings.TREMENDOUS_CAMPAIGN_ID,
            webhook_secret=settings.TREMENDOUS_WEBHOOK_SECRET,
            timeout=settings.TREMENDOUS_TIMEOUT_SECONDS,
        )

    # --- HTTP ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(
                method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise ProviderUnavailable(f"Tremendous did not answer: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(
                f"Tremendous answered HTTP {response.status_code}; trying again later."
            )
        return response

    @staticmethod
    def _order(response: requests.Response) -> OrderSnapshot:
        try:
            order = response.json()["order"]
        except (ValueError, KeyError, TypeError):
            raise ProviderUnavailable(
                f"Tremendous answered HTTP {response.status_code} without an order."
            ) from None
        return snapshot_from(order)

    # --- The provider interface ---------------------------------------------------------

    def order_create(self, order: OrderRequest) -> OrderSnapshot:
        reward: dict[str, Any] = {
            "value": {"denomination": float(order.denomination), "currency_code": order.currency},
            "delivery": {"method": "EMAIL"},
            "recipient": {"name": order.recipient_name, "email": order.recipient_email},
        }
        if order.products:
            reward["products"] = order.products
        campaign = order.campaign_id or self.campaign_id
        if campaign:
            reward["campaign_id"] = campaign
        payload = {
            "external_id": order.external_id,
            "payment": {"funding_source_id": self.funding_source},
            "reward": reward,
        }
        response = self._call("POST", "/orders", json=payload)
        # 200: ordered; 201: an order with this external_id already existed (returned).
        if response.status_code in (200, 201):
            return self._order(response)
        if response.status_code == 402:
            said = _error_text(response)
            raise OrderRefused(
                f"Not enough funds in the Tremendous account (Tremendous: “{said}”). "
                "Top it up, then order again."
            )
        if response.status_code == 409:
            raise OrderConflict(
                f"Tremendous already has an order {order.external_id} with other details."
            )
        if response.status_code in (401, 403):
            raise OrderRefused(
                "Tremendous refused the API key (check TREMENDOUS_API_KEY and "
                "TREMENDOUS_ENVIRONMENT)."
            )
        raise OrderRefused(
            f"Tremendous refused the order (HTTP {response.status_code}): {_error_text(response)}"
        )

    def order_get(self, order_id_or_external_id: str) -> OrderSnapshot:
        response = self._call("GET", f"/orders/{requests.utils.quote(order_id_or_external_id)}")
        if response.status_code == 200:
            return self._order(response)
        if response.status_code == 404:
            raise NotFound(f"Tremendous has no order {order_id_or_external_id}.")
        raise ProviderError(
            f"Tremendous answered HTTP {response.status_code}: {_error_text(response)}"
        )

    def balance(self) -> Balance:
        response = self._call("GET", "/funding_sources")
        if response.status_code != 200:
            raise ProviderError(
                f"Tremendous answered HTTP {response.status_code}: {_error_text(response)}"
            )
        sources = response.json().get("funding_sources") or []
        for source in sources:
            if source.get("id") == self.funding_source or (
                self.funding_source == "balance" and source.get("method") == "balance"
            ):
                meta = source.get("meta") or {}
                return Balance(
                    available_cents=meta.get("available_cents"),
                    pending_cents=meta.get("pending_cents"),
                )
        raise ProviderError(f"Tremendous has no funding source {self.funding_source!r}.")

    def webhook_verify(self, *, body: bytes, signature: str) -> bool:
        """``sha256=<hex>`` of the raw body under the webhook's private key."""
        if not self.webhook_secret or not signature.startswith("sha256="):
            return False
        expected = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip())


def denomination_text(value: Decimal | None, currency: str) -> str:
    return "" if value is None else f"{value:,.2f} {currency}"
