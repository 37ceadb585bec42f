"""The embedded mode's SQLite under parallel requests: redemptions over real HTTP.

A browser (or a double-clicking advocate) sends requests in parallel, and runserver
serves each from its own thread and connection, all on one database file. pytest-django's
SQLite test database lives in memory and its live server shares the test's one
connection between threads, which would lock nothing: this server runs on a file copy of
the test database instead, each request thread with its own connection, as in
production.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection, connections
from pytest_django.live_server_helper import LiveServer

from advocates.models import Advocate
from rewards.models import LedgerEntry, Redemption, Reward
from tests import factories
from tests.concurrency import run_at_once
from tests.integration.processes import browser, csrf_token
from tests.rewards.factories import RewardFactory, give_points

THREADS = 10

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="about SQLite's file locking (the embedded mode); PostgreSQL has its own tests",
    ),
]


@pytest.fixture
def sqlite_file_server(settings, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on a file copy of the migrated test database.

    While it runs, this thread and every request thread connect to the file; the
    in-memory test database is put back afterwards, for pytest-django to flush.
    """
    memory = connections["default"]
    memory.ensure_connection()
    path = tmp_path / "vouch.sqlite3"
    with sqlite3.connect(path) as copy:
        memory.connection.backup(copy)
    copy.close()

    memory_settings = connections.settings["default"]
    connections.settings["default"] = memory_settings | {"NAME": str(path)}
    connections["default"] = connections.create_connection("default")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    # Plain HTTP: a Secure CSRF cookie would never come back to the server.
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
    server = LiveServer("127.0.0.1:0")
    try:
        yield server
    finally:
        server.stop()
        connections["default"].close()
        connections.settings["default"] = memory_settings
        connections["default"] = memory


def _redeem_page(base: str, advocate: Advocate, reward: Reward) -> requests.Session:
    """A signed-in browser that has loaded the redeem page (it holds the CSRF cookie)."""
    session = browser(base, advocate.user)
    page = session.get(f"{base}/rewards/{reward.pk}/redeem/", timeout=30)
    assert page.status_code == 200, page.text[:500]
    return session


def test_parallel_redeems_from_one_advocate_all_succeed(
    sqlite_file_server: LiveServer, assert_ledger_consistent
) -> None:
    base = sqlite_file_server.url
    reward = RewardFactory(points_cost=10, stock=50)
    advocate = factories.AdvocateFactory()
    give_points(advocate, 1000)
    sessions = [_redeem_page(base, advocate, reward) for _ in range(THREADS)]

    # Distinct tokens: ten confirmed redemptions, each one a write to the same rows.
    # ``again`` confirms the repeat, as the second and later ones come within minutes.
    responses = run_at_once(
        lambda i: sessions[i].post(
            f"{base}/rewards/{reward.pk}/redeem/",
            data={
                "token": uuid.uuid4().hex,
                "again": "1",
                "csrfmiddlewaretoken": csrf_token(sessions[i]),
            },
            allow_redirects=False,
            timeout=60,
        ),
        threads=THREADS,
    )

    statuses = [repr(r) if isinstance(r, Exception) else r.status_code for r in responses]
    assert statuses == [302] * THREADS  # each redirected to its redemption; no 500
    assert Redemption.objects.filter(advocate=advocate).count() == THREADS
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).count() == THREADS
    advocate.refresh_from_db()
    reward.refresh_from_db()
    assert advocate.balance == 1000 - 10 * THREADS
    assert reward.stock == 50 - THREADS
    assert_ledger_consistent()
