"""Release several threads at the same instant, for the PostgreSQL race tests.

Each thread uses its own database connection (Django opens one per thread) and closes
it when done, so the test database can be flushed afterwards. Exceptions are returned
in place of results, for the test to assert on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import pytest
from django.db import connection

T = TypeVar("T")

# Module-level marks for a race test module: a committed-transaction test that needs
# PostgreSQL's row locks (skipped on SQLite; CI turns such a skip into a failure).
POSTGRES_RACE = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks: set DATABASE_URL=postgres://...",
    ),
]


def run_at_once(call: Callable[[int], T], *, threads: int = 10) -> list[T | Exception]:
    """Run ``call(i)`` for i in range(threads), all released together by a barrier."""
    barrier = threading.Barrier(threads)
    outcomes: list[T | Exception] = [None] * threads  # type: ignore[list-item]

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = call(i)
        except Exception as error:  # returned to the test, which asserts on it
            outcomes[i] = error
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in workers), "a thread hung"
    return outcomes


def run_each_at_once(calls: Sequence[Callable[[], T]]) -> list[T | Exception]:
    """Run different calls, one per thread, all released together."""
    return run_at_once(lambda i: calls[i](), threads=len(calls))
