"""Health probes that reach the process however the probe addresses it.

A load balancer or an orchestrator probes each host directly: by IP (``Host:
10.0.3.7:8000``, not in ``ALLOWED_HOSTS``, so Django answers 400) and over plain HTTP
(redirected to HTTPS with a 301 by ``SECURE_SSL_REDIRECT``). Neither answer says
anything about the process. This middleware, first in ``MIDDLEWARE``, answers
``/healthz`` and ``/readyz`` before those checks when the probe comes from loopback or
a private network (where probes live); from anywhere else the request goes through the
usual stack, host check and redirect included.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.views import healthz, readyz

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
}


def from_private_network(request: HttpRequest) -> bool:
    """True if the peer (not a forwarded address) is loopback or on a private network."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and from_private_network(request):
            return probe(request)
        return self.get_response(request)
