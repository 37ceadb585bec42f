"""API keys: created in the console (shown once, stored hashed), revoked, audited, rate
limited, and their last use recorded at most once a minute."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from api.models import APIKey
from api.services import APIKeyError, api_key_create, api_key_revoke
from core.models import AuditEntry
from tests.api.factories import api_key, bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/companies"


def test_a_manager_creates_a_key_and_sees_it_once(manager_client, manager) -> None:
    response = manager_client.post(
        reverse("api:keys"),
        {"name": "CRM sync", "scopes": ["advocates:read", "referrals:read"]},
    )
    assert response.status_code == 200
    token = response.context["token"]
    assert token.startswith("vch_")
    assert len(token) > 40
    assert token in response.content.decode()
    key = APIKey.objects.get()
    assert key.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {key.prefix, key.key_hash, key.name}
    assert token.startswith(key.prefix)
    assert key.scopes == ["advocates:read", "referrals:read"]
    assert key.created_by == manager
    entry = AuditEntry.objects.get(action="api_key.create")
    assert (entry.actor, entry.target_id) == (manager, str(key.pk))
    assert entry.detail["scopes"] == key.scopes
    # The list shows the prefix to tell keys apart, never the key.
    listing = manager_client.get(reverse("api:keys")).content.decode()
    assert key.prefix in listing
    assert token not in listing


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scopes": ["advocates:read"]}, "name"),
        ({"name": "No scope"}, "scopes"),
        ({"name": "Bad scope", "scopes": ["advocates:write"]}, "scopes"),
        ({"name": "Past", "scopes": ["ledger:read"], "expires_on": "2020-01-01"}, "expires_on"),
    ],
)
def test_bad_input_creates_nothing_and_says_why(manager_client, data, field) -> None:
    response = manager_client.post(reverse("api:keys"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Nothing was created" in response.content.decode()
    assert not APIKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_service_refuses_what_the_form_would(manager) -> None:
    with pytest.raises(APIKeyError):
        api_key_create(name="x", scopes=[], by=manager)
    with pytest.raises(APIKeyError):
        api_key_create(name="x", scopes=["admin"], by=manager)
    with pytest.raises(APIKeyError):
        api_key_create(
            name="x", scopes=["ledger:read"], expires_at=timezone.now() - timedelta(1), by=manager
        )
    assert not APIKey.objects.exists()


def test_an_expiry_day_stops_the_key_at_its_start(manager_client, client) -> None:
    day = timezone.now().date() + timedelta(days=3)
    response = manager_client.post(
        reverse("api:keys"),
        {"name": "Trial", "scopes": ["companies:read"], "expires_on": day.isoformat()},
    )
    token = response.context["token"]
    key = APIKey.objects.get()
    assert key.expires_at.date() == day
    assert client.get(URL, **bearer(token)).status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=key.expires_at):
        assert client.get(URL, **bearer(token)).status_code == 401


def test_revoking_stops_the_key_at_once_and_is_audited_once(manager_client, manager, client):
    key, token = api_key(["companies:read"])
    assert client.get(URL, **bearer(token)).status_code == 200
    response = manager_client.post(reverse("api:key_revoke", kwargs={"pk": key.pk}))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == manager
    assert client.get(URL, **bearer(token)).status_code == 401
    # A second click changes nothing and records nothing.
    manager_client.post(reverse("api:key_revoke", kwargs={"pk": key.pk}))
    assert AuditEntry.objects.filter(action="api_key.revoke").count() == 1
    assert api_key_revoke(key_id=key.pk, by=manager) is False
    assert "revoked" in manager_client.get(reverse("api:keys")).content.decode()


def test_last_used_is_written_at_most_once_a_minute(client) -> None:
    key, token = api_key(["companies:read"])
    assert key.last_used_at is None
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        client.get(URL, **bearer(token))
    key.refresh_from_db()
    assert key.last_used_at == start
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=30)):
        client.get(URL, **bearer(token))
    key.refresh_from_db()
    assert key.last_used_at == start


def test_last_used_waits_for_the_database_even_without_the_cache(client) -> None:
    # Another process (or a cache that lost the entry) may try again within the minute:
    # the conditional update still writes nothing.
    key, token = api_key(["companies:read"])
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        client.get(URL, **bearer(token))
    with (
        mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=30)),
        mock.patch("api.services.cache.add", return_value=True),
    ):
        client.get(URL, **bearer(token))
    key.refresh_from_db()
    assert key.last_used_at == start
    with (
        mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=61)),
        mock.patch("api.services.cache.add", return_value=True),
    ):
        client.get(URL, **bearer(token))
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(seconds=61)


def test_a_key_over_its_rate_gets_429_with_retry_after(client, settings) -> None:
    settings.API_RATE_LIMIT = 3
    _key, token = api_key(["companies:read"])
    _other, other_token = api_key(["companies:read"])
    # 20 s into a minute: the window ends in 40 s.
    with mock.patch("api.auth.time.time", return_value=1_800_000_000 - 40.0):
        statuses = []
        for _ in range(3):
            response = client.get(URL, **bearer(token))
            statuses.append(response.status_code)
        assert response["RateLimit-Limit"] == "3"
        assert response["RateLimit-Remaining"] == "0"
        assert response["RateLimit-Reset"] == "40"
        refused = client.get(URL, **bearer(token))
        # Another key has its own count.
        assert client.get(URL, **bearer(other_token)).status_code == 200
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused["Content-Type"] == "application/problem+json"
    assert "3 requests a minute" in refused.json()["detail"]
    with mock.patch("api.auth.time.time", return_value=1_800_000_000 + 1.0):
        assert client.get(URL, **bearer(token)).status_code == 200


def test_the_rate_is_counted_in_the_shared_cache(client, settings) -> None:
    """Two web processes share Django's cache (Redis): a count written by one limits
    the other. Here the count is already at the limit when this process asks."""
    settings.API_RATE_LIMIT = 5
    key, token = api_key(["companies:read"])
    with mock.patch("api.auth.time.time", return_value=1_800_000_000.0):
        cache.set(f"api:rate:{key.pk}:{1_800_000_000 // 60}", 5, timeout=60)
        assert client.get(URL, **bearer(token)).status_code == 429
