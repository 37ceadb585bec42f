"""Operators can follow one request through the logs and into the error tracker."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sentry_sdk
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.test import Client, override_settings
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from core.observability import REQUEST_ID_HEADER, logging_config, sentry_init

pytestmark = pytest.mark.django_db


def test_each_response_carries_a_request_id_and_keeps_the_proxys() -> None:
    first = Client().get("/healthz")[REQUEST_ID_HEADER]
    second = Client().get("/healthz")[REQUEST_ID_HEADER]
    assert len(first) == 32
    assert first != second
    # nginx's $request_id is kept, so its access log and ours share the id.
    given = "4f1c2a9be0d34f7d8a7e6b5c4d3e2f10"
    assert Client().get("/healthz", HTTP_X_REQUEST_ID=given)[REQUEST_ID_HEADER] == given
    # A header that could forge a log line is replaced, not copied.
    forged = "abc\n2026-12-03 ERROR fake"
    assert Client().get("/healthz", HTTP_X_REQUEST_ID=forged)[REQUEST_ID_HEADER] != forged


def _log_lines(fmt: str, code: str) -> list[str]:
    """Run ``code`` in a process logging with ``LOG_FORMAT=fmt``; its stderr lines."""
    config = json.dumps(logging_config(level="INFO", fmt=fmt))
    script = (
        "import json, logging.config\n"
        f"logging.config.dictConfig(json.loads({config!r}))\n"
        "from core.observability import request_id\n"
        f"{code}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stderr.strip().splitlines()


def test_text_log_lines_have_time_level_logger_and_request_id() -> None:
    code = "request_id.set('req-12345678'); logging.getLogger('vouch.test').warning('hello')"
    (line,) = _log_lines("text", code)
    stamp, clock, level, logger, rid, message = line.split(" ", 5)
    assert stamp.count("-") == 2
    assert clock.count(":") == 2
    assert (level, logger, rid, message) == ("WARNING", "vouch.test", "[req-12345678]", "hello")


def test_json_log_lines_are_one_object_each() -> None:
    code = (
        "logging.getLogger('vouch.test').info('outside a request')\n"
        "request_id.set('req-12345678'); logging.getLogger('vouch.test').error('boom')"
    )
    outside, inside = (json.loads(line) for line in _log_lines("json", code))
    assert outside["request_id"] == "-"
    assert inside["level"] == "ERROR"
    assert inside["logger"] == "vouch.test"
    assert inside["request_id"] == "req-12345678"
    assert inside["message"] == "boom"
    assert inside["time"][:2] == "20"


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="use text or json"):
        logging_config(level="INFO", fmt="xml")


class _Captured(Transport):
    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.events: list[dict] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event":
                self.events.append(json.loads(item.payload.get_bytes()))


@pytest.fixture
def sentry_events():
    """Sentry initialised as the settings do (``sentry_init``), sending to a list."""
    transport = _Captured()
    sentry_init(
        dsn="https://public@sentry.example/1",
        environment="test",
        release="vouch@test",
        traces_sample_rate=0.0,
        transport=transport,
    )
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: a client that sends nothing, for the tests after this one


@override_settings(ROOT_URLCONF="tests.core.urls_error")
def test_an_error_goes_to_sentry_with_its_request_id_and_no_personal_data(
    advocate, sentry_events
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(advocate.user)
    client.cookies["secret_cookie"] = "1"
    response = client.get("/boom/")
    sentry_sdk.flush()
    assert response.status_code == 500
    (event,) = sentry_events
    assert event["exception"]["values"][-1]["type"] == "ZeroDivisionError"
    assert event["tags"]["request_id"] == response[REQUEST_ID_HEADER]
    assert event["environment"] == "test"
    assert "boom" in event["transaction"]  # the view that failed
    dumped = json.dumps(event)
    assert "ada@example.com" not in dumped
    assert "secret_cookie" not in dumped


def test_production_without_a_broker_fails_the_system_check(settings) -> None:
    settings.DEBUG = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert "vouch.E001" in [m.id for m in run_checks()]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert "vouch.E001" not in [m.id for m in run_checks()]
    settings.DEBUG = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert "vouch.E001" not in [m.id for m in run_checks()]
