"""The PostgreSQL backend's health check (core/db/postgresql): a connection reused
between requests is not asked ``SELECT 1`` while the server has said nothing, and one
the server ended is replaced before the request's first query, as Django's own check
would."""

from __future__ import annotations

import select
from unittest import mock

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the PostgreSQL backend's own check"
    ),
]


def _new_request() -> None:
    """What Django does for a connection reused by the next request."""
    connection.health_check_enabled = True
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_an_idle_connection_is_reused_without_a_round_trip() -> None:
    pid = _backend_pid()
    with mock.patch.object(django_postgresql.DatabaseWrapper, "is_usable") as select_one:
        _new_request()
    select_one.assert_not_called()
    assert _backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_first_query() -> None:
    pid = _backend_pid()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server says so on the socket (an error, then the end of it): await it.
    readable, _, _ = select.select([connection.connection.fileno()], [], [], 30)
    assert readable

    _new_request()

    assert _backend_pid() != pid  # a new connection, and no error for the request
