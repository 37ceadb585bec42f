"""Helpers for the tests of pages cached as fragments (core.fragments)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import fragments

# The signed-in floor (bench/urls.py): the middleware, the session, the user with their
# roles and an empty base.html.
FLOOR = "/bench/signed-in"


@contextmanager
def one_minute() -> Iterator[None]:
    """The clock core.fragments' keys round, held mid-minute: every request inside falls
    in the same minute, so a second read is a cache hit unless a write dropped a version
    (a minute passing cannot make a change-then-read test pass). The fixture
    ``fragments_held`` holds it for a whole test."""
    moment = timezone.now().replace(second=30, microsecond=0)
    with mock.patch.object(fragments, "now", return_value=moment):
        yield


def queries_of(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def assert_a_hit_costs_the_floor(settings, client: Client, url: str, **headers: str) -> None:
    """The page's second request (its fragment from the cache) runs the floor's queries
    and no more: nothing is read outside the fragment's render."""
    settings.ROOT_URLCONF = "bench.urls"  # the project's URLs and the floor
    with one_minute():
        client.get(FLOOR)  # the session's cache entry
        floor = queries_of(client, FLOOR)
        client.get(url, **headers)  # renders and keeps the fragment
        assert queries_of(client, url, **headers) == floor


def page(client: Client, url: str) -> str:
    """The HTML of ``url`` as ``client`` gets it (asserting it was served)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def client_for(user: object) -> Client:
    """A browser signed in as ``user``."""
    client = Client()
    client.force_login(user)
    return client
