"""/healthz (liveness) and /readyz (readiness): what load balancers and orchestrators poll."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database_or_redis(client, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_the_database_ok(client, settings) -> None:
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_when_the_database_is_down(client, settings) -> None:
    settings.REDIS_URL = ""
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: OperationalError"}


def test_readyz_says_degraded_not_failed_when_redis_is_down(client, settings) -> None:
    # Pages keep serving without Redis: a load balancer must not take every host out.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ")


@pytest.fixture
def production(settings):
    settings.ALLOWED_HOSTS = ["vouch.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.REDIS_URL = ""


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("peer", ["127.0.0.1", "10.0.3.2", "192.168.1.20", "::1"])
def test_a_probe_from_a_private_address_by_ip_over_http_gets_the_answer(
    production, path, peer
) -> None:
    # A load balancer probes each host by its address, over plain HTTP.
    response = Client(REMOTE_ADDR=peer).get(path, HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_public_request_by_ip_still_meets_the_host_check_and_the_redirect(production) -> None:
    outsider = Client(REMOTE_ADDR="93.184.216.34")  # a public address
    assert outsider.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 400
    response = outsider.get("/healthz", HTTP_HOST="vouch.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://vouch.example.com/healthz"
    assert outsider.get("/healthz", HTTP_HOST="vouch.example.com", secure=True).status_code == 200


def test_only_the_probe_paths_skip_the_host_check(production) -> None:
    response = Client(REMOTE_ADDR="10.0.3.2").get("/accounts/login/", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 400
