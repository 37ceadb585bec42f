"""``GET /metrics`` for Prometheus: what an operator needs to see that work is stuck.

- **Requests:** ``vouch_http_requests_total{method,view,status}`` and
  ``vouch_http_request_duration_seconds{method,view}`` (by URL name, so the label set
  stays small however many ids the paths carry).
- **Queues:** ``vouch_celery_queue_length{queue}``: messages waiting in Redis for a
  worker, on the transactional and the bulk queue (core.queues). A queue that only
  grows is a stuck or missing worker.
- **Outbox:** ``vouch_outbox_backlog`` and ``vouch_outbox_oldest_age_seconds``: tasks
  written while Redis could not take them (``core.outbox``), waiting for the drain.
- Any app can add its own figures with ``register`` (campaigns adds its send rate).

Figures read at scrape time (queues, outbox, campaigns) are computed by whichever
process answers, from the database and Redis, so every host reports the same. Request
counters live in each process: under gunicorn's several workers set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by them (prometheus_client's
multiprocess mode), or each scrape sees one worker's share.

The endpoint is off (404) until ``METRICS_TOKEN`` is set; the scraper then sends
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable, Iterator

import redis
from django.apps import apps
from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.queues import bulk_queue_for
from core.roles import public

REQUESTS = Counter(
    "vouch_http_requests",
    "Requests answered, by URL name and status.",
    ["method", "view", "status"],
)
LATENCY = Histogram(
    "vouch_http_request_duration_seconds",
    "Time to answer a request, by URL name.",
    ["method", "view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestMetricsMiddleware:
    """Counts and times every request (after the probes: a health check is not traffic)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = match.view_name if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        LATENCY.labels(method, view).observe(time.perf_counter() - started)
        REQUESTS.labels(method, view, str(response.status_code)).inc()
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Figures read at scrape time: functions yielding metric families.
_SOURCES: list[Callable[[], Iterable[Metric]]] = []


def register(source: Callable[[], Iterable[Metric]]) -> Callable[[], Iterable[Metric]]:
    """Add a function whose metric families every scrape reports (usable as a decorator)."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


class _Sources(Collector):
    def collect(self) -> Iterator[Metric]:
        for source in _SOURCES:
            yield from source()


def celery_queues() -> list[str]:
    return [settings.CELERY_TASK_DEFAULT_QUEUE, bulk_queue_for(settings.CELERY_TASK_DEFAULT_QUEUE)]


@register
def queue_lengths() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "vouch_celery_queue_length", "Messages waiting in Redis for a worker.", labels=["queue"]
    )
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        try:
            for queue in celery_queues():
                family.add_metric([queue], client.llen(queue))
        except redis.RedisError:
            pass  # Redis down: no figure (readyz says degraded); the scrape still answers
        finally:
            client.close()
    yield family


@register
def outbox() -> Iterable[Metric]:
    # Models by name: apps import this module while they load, to register their figures.
    outbox_task = apps.get_model("core", "OutboxTask")
    waiting = outbox_task.objects.filter(sent_at__isnull=True).aggregate(
        oldest=Min("created_at"), count=Count("id")
    )
    yield GaugeMetricFamily(
        "vouch_outbox_backlog", "Tasks waiting in the database outbox.", value=waiting["count"]
    )
    age = (timezone.now() - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0.0
    yield GaugeMetricFamily(
        "vouch_outbox_oldest_age_seconds",
        "Age of the oldest task waiting in the outbox.",
        value=age,
    )


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every gunicorn worker's counters
    else:
        registry.register(_ProcessCounters())
    registry.register(_Sources())
    return registry


class _ProcessCounters(Collector):
    """This process's request counters (the default registry holds them)."""

    def collect(self) -> Iterator[Metric]:
        for metric in REGISTRY.collect():
            if metric.name.startswith("vouch_"):
                yield metric


@public
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    given = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
