"""Outbound webhooks: signing (Standard Webhooks), sending with backoff, and the console's
services for endpoints and deliveries.

A delivery is sent by the task named in core.events right after its event commits, and
again by the ``webhook_retries_send`` beat task while it is due: 2xx delivers it; any
other answer (or none) schedules the next attempt after ``BACKOFF``, and after the last
one it is failed. Every attempt of one event carries the same ``webhook-id``, so a
receiver dedupes by it.

Claims: a delivery is taken by pushing its ``next_attempt_at`` past the HTTP timeout
(``LEASE``) in one statement, rows locked with SKIP LOCKED, so two workers never send it
at once; the POST itself runs outside any transaction. Each row's lease is renewed just
before its POST, with the claimed lease's end as the token, so a batch slower than its
lease skips the rows another worker has taken since. A worker that dies mid-send leaves
the row to be retried once the lease runs out (at least once, never in parallel).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from core import events
from core.audit import audit_record
from core.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
# Longer than the timeout, so a claim outlives the POST it covers.
LEASE = timedelta(seconds=60)
# Waits after the 1st, 2nd... failed attempt: 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h
# (about 22 hours in all); the attempt after the last wait is the last one.
BACKOFF = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
SWEEP_BATCH = 100
USER_AGENT = "Vouch-Webhooks/1"

Actor = AbstractBaseUser | AnonymousUser | None


class WebhookError(Exception):
    """A refused console action; the message is fit to show the manager."""


# --- Signing ------------------------------------------------------------------------------


def secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signed_headers(*, secret: str, event_id: str, body: bytes, at: float) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed at unix time ``at``."""
    stamp = int(at)
    signature = Webhook(secret).sign(
        msg_id=event_id, timestamp=datetime.fromtimestamp(stamp, tz=UTC), data=body.decode()
    )
    return {"webhook-id": event_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


# --- Sending --------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would become a GET without the body: report the 3xx instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def public_address(address: str) -> bool:
    """Whether an IP address is on the public internet: not loopback, private, link-local
    (169.254.169.254, the cloud metadata service), carrier-grade NAT, multicast, reserved."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


class PrivateAddressError(OSError):
    """The endpoint's host is (or now resolves to) a non-public address."""


def _connect_public(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
    # The address checked is the one the socket is connected to, after DNS: a name that
    # resolves to a public address when the endpoint is added and to an internal one later
    # (DNS rebinding) is caught here, before a byte of the request is sent.
    sock = socket.create_connection(address, *args, **kwargs)
    peer = sock.getpeername()[0]
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS and not public_address(peer):
        sock.close()
        raise PrivateAddressError(
            f"{address[0]} is at {peer}, not a public address "
            "(WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)"
        )
    return sock


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_public


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_public


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


_opener = urllib.request.build_opener(_NoRedirect, _PublicHTTPHandler, _PublicHTTPSHandler)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST one delivery: (HTTP status or None, error text or "")."""
    endpoint = delivery.endpoint
    body = body_bytes(delivery.payload)
    # The signing time is the wall clock of this attempt: receivers check it against theirs.
    headers = signed_headers(
        secret=endpoint.secret, event_id=delivery.event_id, body=body, at=time.time()
    )
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked on create
        endpoint.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (OSError, ValueError) as error:  # refused, timed out, DNS, TLS
        return None, f"{type(error).__name__}: {error}"[:500]


def _record(delivery: WebhookDelivery, code: int | None, error: str) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {"attempts": attempts, "last_status_code": code, "last_error": error}
    if code is not None and 200 <= code < 300:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_error="")
    elif attempts >= MAX_ATTEMPTS:
        fields["status"] = WebhookDelivery.Status.FAILED
    else:
        fields["next_attempt_at"] = now + BACKOFF[attempts - 1]
    # Only a pending row is written: a manager's disable in the meantime wins.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        **fields
    )
    return str(fields.get("status", "retry"))


def _claim(rows: QuerySet[WebhookDelivery], limit: int) -> list[WebhookDelivery]:
    """Take the due pending deliveries among ``rows`` for this worker (see the module doc)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            # of=self: the endpoint's row, joined for its "active", must stay unlocked,
            # or every other sweep would skip all of that endpoint's deliveries.
            rows.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__active=True,
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    return list(
        WebhookDelivery.objects.select_related("endpoint").filter(pk__in=ids).order_by("pk")
    )


def _still_ours(delivery: WebhookDelivery) -> bool:
    """Renew this worker's lease on ``delivery`` just before its POST: a batch of slow
    answers can outlast the lease taken for the whole batch at claim time. The lease's
    end, as claimed, is the token: a sweep that took the row since then has moved it."""
    renewed = WebhookDelivery.objects.filter(
        pk=delivery.pk,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=delivery.next_attempt_at,
    ).update(next_attempt_at=timezone.now() + LEASE)
    return renewed == 1


def _send(claimed: list[WebhookDelivery]) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Endpoints that did not answer at all in this run (refused, timed out): their other
    # deliveries are not tried again now, so one dead receiver costs one timeout per run,
    # not one per delivery, and the other endpoints' deliveries are not held up behind it.
    unreachable: dict[int, str] = {}
    for delivery in claimed:
        if not _still_ours(delivery):
            continue  # the batch outlasted its lease and another worker took this one
        if delivery.endpoint_id in unreachable:
            why = unreachable[delivery.endpoint_id]
            code, error = None, f"Not sent: the endpoint did not answer just before ({why})"[:500]
        else:
            code, error = _post(delivery)
            if code is None:
                unreachable[delivery.endpoint_id] = error
        outcome = _record(delivery, code, error)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != WebhookDelivery.Status.DELIVERED:
            logger.info("Webhook %s to %s: %s", delivery.event_id, delivery.endpoint.url, error)
    return counts


def deliveries_send(*, delivery_ids: Sequence[int]) -> dict[str, int]:
    """Send these deliveries now if they are still pending and due (the after-commit task)."""
    rows = WebhookDelivery.objects.filter(pk__in=list(delivery_ids))
    return _send(_claim(rows, len(delivery_ids)))


def deliveries_send_due(*, limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Send the retries that have come due (the beat task, every minute)."""
    return _send(_claim(WebhookDelivery.objects.all(), limit))


# --- Console services -----------------------------------------------------------------------


def _check_url(url: str) -> None:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookError(_("Enter an http:// or https:// URL.")) from None
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return
    parts = urllib.parse.urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return  # not resolvable yet: each send checks the address it connects to
    private = sorted({str(info[4][0]) for info in found if not public_address(str(info[4][0]))})
    if private:
        raise WebhookError(
            _(
                "%(host)s is at %(addresses)s, a private or local address: "
                "Vouch sends webhooks to public addresses only (an operator can allow private "
                "ones with WEBHOOK_ALLOW_PRIVATE_NETWORKS)."
            )
            % {"host": parts.hostname, "addresses": ", ".join(private)}
        )


def endpoint_create(
    *, url: str, description: str = "", event_types: Sequence[str] = (), by: Actor
) -> WebhookEndpoint:
    _check_url(url)
    unknown = sorted(set(event_types) - set(events.EVENT_TYPES))
    if unknown:
        raise WebhookError(_("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)})
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            description=description,
            event_types=sorted(set(event_types)),
            secret=secret_new(),
            created_by_id=by.pk if by is not None and by.is_authenticated else None,
        )
        audit_record(actor=by, action="webhook.create", target=endpoint)
        events.endpoints_changed()
    return endpoint


def endpoint_active_set(*, endpoint_id: int, active: bool, by: Actor) -> WebhookEndpoint:
    """Enable or disable an endpoint; disabling fails what it still had pending."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if endpoint.active == active:
            return endpoint
        endpoint.active = active
        endpoint.save(update_fields=["active"])
        if not active:
            endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
                status=WebhookDelivery.Status.FAILED, last_error="Endpoint disabled"
            )
        audit_record(
            actor=by, action="webhook.enable" if active else "webhook.disable", target=endpoint
        )
        events.endpoints_changed()
    return endpoint


def endpoint_delete(*, endpoint_id: int, by: Actor) -> str:
    """Delete an endpoint with its delivery log; returns its URL for the message."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        audit_record(
            actor=by, action="webhook.delete", target=endpoint, detail={"url": endpoint.url}
        )
        endpoint.delete()
        events.endpoints_changed()
    return endpoint.url


def delivery_resend(*, delivery_id: int, endpoint_id: int, by: Actor) -> WebhookDelivery:
    """A new delivery of the same event (same id and body) to the same endpoint."""
    with transaction.atomic():
        original = WebhookDelivery.objects.select_related("endpoint").get(
            pk=delivery_id, endpoint_id=endpoint_id
        )
        if not original.endpoint.active:
            raise WebhookError(_("This endpoint is disabled: enable it before resending."))
        copy = WebhookDelivery(
            endpoint_id=original.endpoint_id,
            event_id=original.event_id,
            event_type=original.event_type,
            payload=original.payload,
        )
        events.deliveries_create([copy])
        audit_record(
            actor=by,
            action="webhook.resend",
            target=original.endpoint,
            detail={"event": original.event_id},
        )
    return copy


def endpoint_test_send(*, endpoint_id: int, by: Actor) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint only."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        if not endpoint.active:
            raise WebhookError(_("This endpoint is disabled: enable it before testing."))
        delivery = WebhookDelivery(
            endpoint=endpoint,
            event_id=events.new_event_id(),
            event_type=events.TEST_EVENT,
            payload=events.envelope(events.TEST_EVENT, {"endpoint": endpoint.pk}),
        )
        events.deliveries_create([delivery])
        audit_record(
            actor=by, action="webhook.test", target=endpoint, detail={"event": delivery.event_id}
        )
    return delivery


def deliveries_purge(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Drop delivered and failed deliveries older than WEBHOOK_LOG_DAYS (the hourly beat
    task); pending ones stay, whatever their age. Per endpoint, in batches, along the
    delivery log's index: no long lock on the table the senders claim rows from."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    removed = 0
    for endpoint_id in WebhookEndpoint.objects.values_list("pk", flat=True):
        old = WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id, created_at__lt=cutoff
        ).exclude(status=WebhookDelivery.Status.PENDING)
        while ids := list(old.values_list("pk", flat=True)[:batch]):
            removed += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
    return removed


# --- Selectors ------------------------------------------------------------------------------


def endpoints_list() -> QuerySet[WebhookEndpoint]:
    """The endpoints, newest first, each with its deliveries counted by status
    (``n_pending``, ``n_delivered``, ``n_failed``) in the same query."""
    return WebhookEndpoint.objects.annotate(
        **{
            f"n_{status}": Count("deliveries", filter=Q(deliveries__status=status))
            for status in WebhookDelivery.Status.values
        }
    ).order_by("-created_at", "-id")


def endpoint_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.order_by("-created_at", "-id").defer("payload")
