"""Request types for views (so that type checking knows what the middleware added), and
the client's address behind reverse proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (every request does)."""

    htmx: HtmxDetails


def client_ip(request: HttpRequest) -> str:
    """The address of the person making the request: every limiter keys on this.

    Behind ``TRUSTED_PROXY_COUNT`` reverse proxies (nginx, a load balancer), the peer
    address is the nearest proxy's, shared by every visitor; the client's is the entry
    that many places from the right of ``X-Forwarded-For``, which each trusted proxy
    appends to. Entries further left were sent by the client and prove nothing. A
    request with fewer entries did not come through the proxies (or the count is
    wrong): its peer address is used, so a forged header never picks the key.
    allauth's rate limits use this too (``advocates.adapters.AccountAdapter``).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
        if len(forwarded) >= count:
            try:
                return str(ipaddress.ip_address(forwarded[-count]))
            except ValueError:
                pass  # not an address: fall back to the peer, as if no proxy had added it
    return request.META.get("REMOTE_ADDR", "") or "unknown"
