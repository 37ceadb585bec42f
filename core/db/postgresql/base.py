"""Django's PostgreSQL backend with a health check that costs no round trip.

With persistent connections (``DB_CONN_MAX_AGE``) and health checks on, Django asks a
reused connection ``SELECT 1`` before each request's first query: a round trip to the
database on every request, a fifth of the signed-in floor's database work
(bench/README.md section 10). Here a connection idle between requests is usable unless
the server has said something since its last answer: a server that restarts, fails
over or ends the session (``pg_terminate_backend``, ``idle_session_timeout``) closes
the socket or sends an error first, which makes the socket readable. Only then is the
connection asked ``SELECT 1`` as Django does, and replaced if that fails.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        if self.connection.closed or self.connection.broken:
            return False
        readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        if not readable:
            return True
        return super().is_usable()
