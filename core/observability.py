"""What operators see: log lines with their level, time, logger and request id (text or
JSON), and errors sent to Sentry when ``SENTRY_DSN`` is set.

Every request gets an id: the one the reverse proxy sent in ``X-Request-ID`` (nginx's
``$request_id``) when it looks like one, a new one otherwise. It is on every log line
written while the request runs, in the response's ``X-Request-ID`` header, and on the
Sentry event, so one failing request can be followed from the proxy's access log to the
traceback. This module is imported by the settings: it must not import models.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import sentry_sdk
from django.http import HttpRequest, HttpResponse
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like; anything else (too long, odd characters that could
# forge log lines) is replaced by our own.
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{8,64}")
NO_REQUEST = "-"
request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


class RequestIdMiddleware:
    """Gives each request its id (see the module doc); first in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _REQUEST_ID_SHAPE.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """``LOGGING`` for ``LOG_FORMAT`` ``text`` (one line per record) or ``json``."""
    if fmt not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT={fmt!r}: use text or json.")
    formatter: dict[str, Any] = (
        {"format": TEXT_FORMAT}
        if fmt == "text"
        else {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        }
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
        "formatters": {"vouch": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "vouch",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


def _tag_request_id(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    rid = request_id.get()
    if rid != NO_REQUEST:
        event.setdefault("tags", {})["request_id"] = rid
    return event


def sentry_init(
    *, dsn: str, environment: str, release: str, traces_sample_rate: float, **options: Any
) -> None:
    """Errors (web requests and Celery tasks) to Sentry. No personal data is sent: no
    user email, no cookies, no request bodies (the SDK's default without PII)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_tag_request_id,  # type: ignore[arg-type]
        **options,
    )
