"""Fixtures for every test: the personas, a clean cache, and the ledger invariant."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests import factories


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    # allauth's rate limits and any cached page live here; tests must not share them.
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _files(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # Production serves hashed files from collectstatic's manifest; tests read the
    # source folders instead, so they need no collectstatic run.
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture
def advocate(db):
    return factories.AdvocateFactory(user__email="ada@example.com", user__first_name="Ada")


@pytest.fixture
def other_advocate(db):
    return factories.AdvocateFactory(user__email="otto@example.com", user__first_name="Otto")


@pytest.fixture
def rep(db):
    return factories.RepFactory(email="rep@example.com", first_name="Ravi")


@pytest.fixture
def other_rep(db):
    return factories.RepFactory(email="rep2@example.com", first_name="Rosa")


@pytest.fixture
def manager(db):
    return factories.ManagerFactory(email="manager@example.com", first_name="Maya")


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def advocate_client(advocate) -> Client:
    return _client_for(advocate.user)


@pytest.fixture
def other_advocate_client(other_advocate) -> Client:
    return _client_for(other_advocate.user)


@pytest.fixture
def rep_client(rep) -> Client:
    return _client_for(rep)


@pytest.fixture
def manager_client(manager) -> Client:
    return _client_for(manager)


@pytest.fixture
def htmx_headers() -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true"}
