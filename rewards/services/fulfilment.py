"""Writes for fulfilment through a provider (rewards.fulfilment): ordering an approved
redemption, following the order to delivery, and falling back to the manual queue.

The state machine is on ``ProviderOrder`` (see its docstring); every move is a
conditional update or happens under the row's lock, and HTTP calls happen outside any
transaction. Placing is safe to run twice, at once or one after the other:

- a lease (``lease_until``, claimed by a conditional update whose row count decides)
  lets one attempt at a time talk to the provider;
- the provider's own idempotency key (``external_id``) makes a second order with the
  same key return the first;
- an attempt that ended without an answer (a timeout) leaves ``in_doubt`` set, and the
  next attempt looks the order up by ``external_id`` before ordering again.

Points are never refunded here: a failed order returns the redemption, still approved,
to the manual queue, where a manager fulfils it by hand or cancels it (the ledger's
reversal, as for any cancellation).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from advocates.models import User
from core import fragments
from core.audit import audit_record
from core.outbox import enqueue_after_commit
from rewards.fulfilment import (
    NotFound,
    OrderConflict,
    OrderRefused,
    OrderRequest,
    OrderSnapshot,
    ProviderError,
    ProviderUnavailable,
    configured_providers,
    provider_for,
)
from rewards.models import ProviderBalance, ProviderOrder, Redemption
from rewards.services import catalog

# How long one attempt may talk to the provider before another may take over: longer
# than the HTTP timeout (TREMENDOUS_TIMEOUT_SECONDS) of the two calls it makes.
LEASE = timedelta(minutes=2)
# The poll looks at in-flight orders untouched for this long (webhooks come first).
POLL_AFTER = timedelta(minutes=5)
POLL_BATCH = 100
# Attempts without an answer (the task's retries, then the poll's restarts) before the
# redemption goes back to a manager, told to check Tremendous before fulfilling by hand.
MAX_ATTEMPTS = 12

State = ProviderOrder.State


def _request_for(order: ProviderOrder) -> OrderRequest:
    redemption = order.redemption
    reward = redemption.reward
    user = redemption.advocate.user
    return OrderRequest(
        external_id=order.external_id,
        recipient_name=(user.get_full_name() or user.email)[:100],
        recipient_email=user.email,
        denomination=reward.provider_denomination or 0,  # type: ignore[arg-type]
        currency=reward.provider_currency or "USD",
        products=reward.provider_product_ids,
        campaign_id=reward.provider_campaign_id.strip(),
    )


def provider_order_place(*, redemption_id: int) -> str:
    """Order the redemption from its provider, once; returns what happened (for logs).

    Raises ProviderUnavailable (an OSError: the task retries) when the outcome is unknown.
    """
    order = (
        ProviderOrder.objects.select_related("redemption__reward", "redemption__advocate__user")
        .filter(redemption_id=redemption_id)
        .first()
    )
    if order is None:
        return "skipped: no provider order"
    if order.state != State.ORDERING:
        return f"skipped: {order.state}"
    provider = provider_for(order.provider)
    if provider is None:
        _fail(order.pk, f"{order.provider.title()} is not configured any more.")
        return "failed: provider not configured"
    now = timezone.now()
    # Row count decides: a second task (a retry, a doubled message) that finds the lease
    # held leaves; once it lapses (a worker died mid-call) the next attempt takes over.
    claimed = (
        ProviderOrder.objects.filter(pk=order.pk, state=State.ORDERING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return "skipped: another attempt holds the lease"
    request = _request_for(order)
    try:
        snapshot: OrderSnapshot | None = None
        if order.in_doubt:
            try:
                snapshot = provider.order_get(order.external_id)
            except NotFound:
                snapshot = None  # the earlier attempt never reached the provider
        if snapshot is None:
            try:
                snapshot = provider.order_create(request)
            except OrderConflict as conflict:
                snapshot = _adopt_conflicting(provider.order_get(order.external_id), request)
                if snapshot is None:
                    raise OrderRefused(
                        f"{conflict} It was sent to someone else: order this one by hand."
                    ) from conflict
    except ProviderUnavailable as unavailable:
        ProviderOrder.objects.filter(pk=order.pk, state=State.ORDERING).update(
            in_doubt=True, lease_until=None, updated_at=timezone.now()
        )
        fragments.scopes_changed(fragments.Scope.FULFILMENT)  # "no answer yet" in the queue
        if order.attempts + 1 >= MAX_ATTEMPTS:
            _fail(
                order.pk,
                f"No answer from {provider.label} after {MAX_ATTEMPTS} attempts ({unavailable}). "
                f"It may have been ordered: look for order {order.external_id} in the "
                f"{provider.label} dashboard before fulfilling it by hand.",
            )
            return "failed: no answer"
        raise
    except ProviderError as refused:
        _fail(order.pk, str(refused))
        return "failed"
    return _apply(order.pk, snapshot)


def _adopt_conflicting(existing: OrderSnapshot, request: OrderRequest) -> OrderSnapshot | None:
    """A 409 means our external id holds an order with other details (the reward's value
    changed between attempts, say). Ours if it went to this advocate; else not ours."""
    if existing.recipient_email.lower() == request.recipient_email.lower():
        return existing
    return None


def _apply(order_pk: int, snapshot: OrderSnapshot) -> str:
    """Record what the provider reports about an order still in flight."""
    now = timezone.now()
    with transaction.atomic():
        order = ProviderOrder.objects.select_for_update().get(pk=order_pk)
        if order.state not in ProviderOrder.IN_FLIGHT:
            return f"skipped: {order.state}"
        order.order_id = snapshot.order_id or order.order_id
        order.reward_id = snapshot.reward_id or order.reward_id
        order.order_status = snapshot.order_status
        order.delivery_status = snapshot.delivery_status
        order.delivery_method = snapshot.delivery_method or order.delivery_method
        order.lease_until = None
        order.in_doubt = False
        order.updated_at = now
        order.ordered_at = order.ordered_at or now
        if snapshot.failed:
            order.save()
            _fail(order.pk, snapshot.reason)
            return "failed"
        if snapshot.delivered:
            order.save()
            _deliver(order)
            return "delivered"
        order.state = State.ORDERED
        order.save()
        return "ordered"


def _deliver(order: ProviderOrder) -> None:
    """In the caller's transaction, with the order row locked."""
    now = timezone.now()
    ProviderOrder.objects.filter(pk=order.pk, state__in=ProviderOrder.IN_FLIGHT).update(
        state=State.DELIVERED, delivery_status="SUCCEEDED", delivered_at=now, updated_at=now
    )
    fragments.scopes_changed(fragments.Scope.FULFILMENT)  # set-wise: no signal
    # No note: the pages and the email say the provider emailed it (no code is stored).
    catalog.redemption_fulfil(redemption_id=order.redemption_id, provider=order.provider)


def _fail(order_pk: int, reason: str) -> bool:
    """Back to the manual queue with ``reason``; once (a conditional update)."""
    now = timezone.now()
    with transaction.atomic():
        changed = ProviderOrder.objects.filter(
            pk=order_pk, state__in=ProviderOrder.IN_FLIGHT
        ).update(
            state=State.FAILED,
            failure_reason=reason[:500],
            failed_at=now,
            updated_at=now,
            lease_until=None,
        )
        if changed:
            fragments.scopes_changed(fragments.Scope.FULFILMENT)  # set-wise: no signal
            order = ProviderOrder.objects.get(pk=order_pk)
            audit_record(
                actor=None,
                action="redemption.provider_failed",
                target=order.redemption,
                detail={"provider": order.provider, "reason": reason[:500]},
            )
    return bool(changed)


# --- A manager tries the provider again -----------------------------------------------


def provider_order_retry(*, redemption_id: int, by: User | None = None) -> bool:
    """Order a failed one again (after topping up the balance, say); True if queued.

    It may have reached the provider after all (a delivery that failed was paid), so
    the attempt looks it up by external id first.
    """
    with transaction.atomic():
        changed = ProviderOrder.objects.filter(
            redemption_id=redemption_id,
            state=State.FAILED,
            redemption__status=Redemption.Status.APPROVED,
        ).update(
            state=State.ORDERING,
            in_doubt=True,
            failure_reason="",
            failed_at=None,
            lease_until=None,
            updated_at=timezone.now(),
        )
        if changed:
            fragments.scopes_changed(fragments.Scope.FULFILMENT)  # set-wise: no signal
            order = ProviderOrder.objects.select_related("redemption").get(
                redemption_id=redemption_id
            )
            audit_record(
                actor=by,
                action="redemption.provider_retry",
                target=order.redemption,
                detail={"provider": order.provider},
            )
            enqueue_after_commit(catalog.PROVIDER_ORDER_TASK, redemption_id)
    return bool(changed)


# --- What the provider tells us: webhooks and the poll --------------------------------

DELIVERED_EVENTS = {"REWARDS.DELIVERY.SUCCEEDED"}
FAILED_EVENTS = {
    "REWARDS.DELIVERY.FAILED": "Tremendous could not deliver the reward email (order already "
    "paid): check the address and resend it from the Tremendous dashboard.",
    "REWARDS.CANCELED": "The reward was canceled at Tremendous.",
    "ORDERS.CANCELED": "The order was canceled (rejected) at Tremendous.",
    "ORDERS.FAILED": "The order failed at Tremendous (a declined payment, say).",
}


def provider_event_apply(*, provider: str, event: str, resource_id: str) -> str:
    """A signed webhook event about a reward (REWARDS.*) or an order (ORDERS.*).

    Repeating it changes nothing (conditional moves); an event about an order Vouch did
    not place, or one it does not act on, is ignored.
    """
    if event not in DELIVERED_EVENTS and event not in FAILED_EVENTS:
        return f"ignored: {event}"
    by_field = "reward_id" if event.startswith("REWARDS.") else "order_id"
    order = ProviderOrder.objects.filter(provider=provider, **{by_field: resource_id}).first()
    if order is None or not resource_id:
        return "ignored: unknown order"
    if event in DELIVERED_EVENTS:
        with transaction.atomic():
            locked = ProviderOrder.objects.select_for_update().get(pk=order.pk)
            if locked.state not in ProviderOrder.IN_FLIGHT:
                return f"skipped: {locked.state}"
            _deliver(locked)
        return "delivered"
    return "failed" if _fail(order.pk, FAILED_EVENTS[event]) else f"skipped: {order.state}"


def provider_orders_poll(*, now: datetime | None = None) -> str:
    """Beat: follow in-flight orders no webhook has moved, and restart stalled placements."""
    now = now or timezone.now()
    stale = now - POLL_AFTER
    restarted = checked = 0
    stalled = ProviderOrder.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        state=State.ORDERING,
        updated_at__lt=stale,
    ).values_list("redemption_id", flat=True)[:POLL_BATCH]
    for redemption_id in stalled:
        enqueue_after_commit(catalog.PROVIDER_ORDER_TASK, redemption_id)
        restarted += 1
    waiting = ProviderOrder.objects.filter(state=State.ORDERED, updated_at__lt=stale).order_by(
        "updated_at"
    )[:POLL_BATCH]
    for order in waiting:
        provider = provider_for(order.provider)
        if provider is None:
            continue
        try:
            snapshot = provider.order_get(order.order_id or order.external_id)
        except ProviderUnavailable:
            break  # the provider is down: the next run tries again
        except ProviderError:
            ProviderOrder.objects.filter(pk=order.pk).update(updated_at=now)
            continue
        _apply(order.pk, snapshot)
        checked += 1
    return f"restarted {restarted}, checked {checked}"


def provider_balance_refresh() -> str:
    """Beat: fetch each configured provider's funding balance for the console."""
    done = []
    for name in configured_providers():
        provider = provider_for(name)
        if provider is None:
            continue
        try:
            balance = provider.balance()
        except ProviderError as error:
            ProviderBalance.objects.update_or_create(
                provider=name, defaults={"error": str(error)[:255]}
            )
            done.append(f"{name}: {error}")
            continue
        ProviderBalance.objects.update_or_create(
            provider=name,
            defaults={
                "available_cents": balance.available_cents,
                "pending_cents": balance.pending_cents,
                "currency": balance.currency,
                "error": "",
                "fetched_at": timezone.now(),
            },
        )
        done.append(f"{name}: {balance.available_cents}")
    return "; ".join(done) or "no provider configured"
