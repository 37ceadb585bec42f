"""Fixtures for every test: the personas, a clean cache, the ledger invariant, and a
real SMTP sink and Celery worker for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.test import Client
from django.utils import translation

from core.queues import bulk_queue_for
from tests import factories
from tests.fragments import one_minute

# The totals of the hostile-input suite (tests/hostile), printed at the end of the run:
# hooked here because under xdist the controller never loads tests/hostile/conftest.py.
# pytest finds hooks by their names in this module: the imports are the use.
from tests.hostile.tally import (
    pytest_sessionfinish,  # noqa: F401
    pytest_terminal_summary,  # noqa: F401
    pytest_testnodedown,  # noqa: F401
)


@pytest.fixture(autouse=True)
def _clean_cache(settings) -> None:
    # allauth's rate limits and any cached page live here; tests must not share them.
    # Always this process's memory, even when REDIS_URL is set (CI): clearing a Redis
    # cache flushes the whole database, which is also the Celery broker, and parallel
    # test processes (pytest -n) would wipe each other's counters.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def fragments_held() -> Iterator[None]:
    """The clock core.fragments' keys round, held mid-minute for the whole test
    (tests.fragments.one_minute)."""
    with one_minute():
        yield


@pytest.fixture(autouse=True)
def _program_settings_cached(_clean_cache: None, request: pytest.FixtureRequest) -> None:
    """Every page reads the program's branding (core.models.ProgramSettings, one row) from
    the cache; warm it, as a running site has it, so that query counts measure the page
    rather than the first cache miss after ``_clean_cache``."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = marker is not None and marker.kwargs.get("transaction")
    if transactional or "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from core.models import ProgramSettings

    ProgramSettings.load()


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Each test starts and ends in the site's language: a request activates the
    reader's (LocaleMiddleware, core.i18n) for the rest of the thread, as it does for
    the rest of a real request, and a Spanish page must not leave the next test Spanish."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    """pytest-django's test database, with nothing left connected when it is dropped.

    The database is private to this test process, so any session still on it at the
    end is a leftover of this run (e.g. a live-server thread kept alive by a browser's
    keep-alive connection); PostgreSQL would refuse to drop the database because of it.
    """
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        # This process's own connection may itself have been killed by a fault test.
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()


# --- CI: tests that need PostgreSQL or a real worker must not be skipped there --------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """With VOUCH_REQUIRE_SERVICES=true (set by .ci/run), a skipped ``postgres`` or
    ``worker`` test is a failure: CI must prove them, not quietly skip them."""
    outcome = yield
    report = outcome.get_result()
    required = os.environ.get("VOUCH_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}
    if not (required and report.skipped) or hasattr(report, "wasxfail"):
        return
    if item.get_closest_marker("postgres") or item.get_closest_marker("worker"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"VOUCH_REQUIRE_SERVICES is set but this test was skipped: {reason}"


# --- The ledger invariant ---------------------------------------------------------------


def ledger_violations() -> list[str]:
    """Advocates whose kept balance or lifetime points disagree with their ledger entries.

    balance == sum of all entries; lifetime == awards minus reversals of awards.
    """
    from advocates.models import Advocate
    from rewards.models import LedgerEntry

    earned = Q(ledger_entries__kind=LedgerEntry.Kind.AWARD) | Q(
        ledger_entries__kind=LedgerEntry.Kind.REVERSAL,
        ledger_entries__reverses__kind=LedgerEntry.Kind.AWARD,
    )
    rows = (
        Advocate.objects.annotate(
            entries_sum=Coalesce(Sum("ledger_entries__amount"), Value(0)),
            earned_sum=Coalesce(Sum("ledger_entries__amount", filter=earned), Value(0)),
        )
        .filter(~Q(balance=F("entries_sum")) | ~Q(lifetime_points=F("earned_sum")))
        .values_list("pk", "balance", "entries_sum", "lifetime_points", "earned_sum")
    )
    return [
        f"advocate {pk}: balance {balance} vs entries {entries}, "
        f"lifetime {lifetime} vs earned {earned_sum}"
        for pk, balance, entries, lifetime, earned_sum in rows
    ]


@pytest.fixture
def assert_ledger_consistent() -> Callable[[], None]:
    def check() -> None:
        problems = ledger_violations()
        assert not problems, "Ledger invariant broken: " + "; ".join(problems)

    return check


@pytest.fixture(autouse=True)
def _ledger_invariant(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that touched the database, balances still match the ledger.

    Points may change only through rewards.services; a test (or code under test) that
    writes a balance directly fails here with the advocates concerned.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or (
        "_django_db_helper" in request.fixturenames
    )
    if not uses_db:
        yield
        return
    # Set the database up before this fixture, so this check runs before its rollback.
    request.getfixturevalue("_django_db_helper")
    yield
    if connection.needs_rollback:
        return  # the test broke its transaction; its own failure says why
    try:
        problems = ledger_violations()
    except DatabaseError:
        return  # an aborted PostgreSQL transaction: the test has already failed
    assert not problems, (
        "Ledger invariant broken after this test (points must change only through "
        "rewards.services): " + "; ".join(problems)
    )


# --- A real SMTP sink and a real Celery worker (integration tests) ----------------------


def free_port() -> int:
    # aiosmtpd's Controller(port=0) fails its own readiness check: pick a port first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpSink:
    """Messages received by a real SMTP server on 127.0.0.1:``port``."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, message: EmailMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address.lower() in m["To"].lower()]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 60) -> list[EmailMessage]:
        """The messages to ``address`` once at least ``count`` arrived (fails on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"{count} message(s) to {address} expected within {timeout}s; "
            f"got {len(self.to(address))}"
        )


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            sink.add(message_from_bytes(envelope.content, policy=policy.default))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp_sink(_smtp_server: SmtpSink) -> SmtpSink:
    """A real SMTP server, empty at the start of the test (``.port``, ``.wait_for()``)."""
    _smtp_server.clear()
    return _smtp_server


@dataclass
class WorkerProcess:
    process: subprocess.Popen | None
    queue: str
    log: Path
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as in a crash (no warm shutdown)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def start(self, **extra_env: str) -> None:
        """Start a (fresh) worker on the same queue and wait until it is ready.

        After ``kill()``: the crash tests restart the worker this way; ``extra_env`` stays
        for the rest of the session (e.g. a short CAMPAIGN_CLAIM_STALE_SECONDS).
        """
        assert self.process is None or self.process.poll() is not None, "still running"
        self.env = self.env | extra_env
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=django_settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while " ready." not in self.log.read_bytes()[offset:].decode(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start:\n{self.log_tail()}")
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # warm shutdown: finish the task in hand
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def _celery_worker(
    request: pytest.FixtureRequest,
    _smtp_server: SmtpSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    if not django_settings.REDIS_URL:
        pytest.skip("needs a real Celery worker: set REDIS_URL (and DATABASE_URL) to run it")
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs a test database another process can open: set DATABASE_URL to PostgreSQL "
            "(the SQLite test database lives in this process's memory)"
        )
    # One worker per test session (per xdist worker), on its own queue, against the
    # test database pytest-django created; it is stopped before that database is dropped.
    request.getfixturevalue("django_db_setup")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    database_url = urlsplit(os.environ["DATABASE_URL"])
    env = os.environ | {
        "DATABASE_URL": database_url._replace(path="/" + connection.settings_dict["NAME"]).geturl(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": django_settings.REDIS_URL,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(_smtp_server.port),
        "EMAIL_USE_TLS": "false",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "SITE_URL": django_settings.SITE_URL,
        "DEBUG": "false",
    }
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool=solo", "--concurrency=1", "-Q", f"{queue},{bulk_queue_for(queue)}",
        "-n", f"{queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel=INFO",
    ]  # fmt: skip
    worker = WorkerProcess(process=None, queue=queue, log=log, command=command, env=env)
    try:
        worker.start()
        yield worker
    finally:
        # The crash tests replace the process: stop whichever one runs now.
        if worker.process is not None:
            _stop(worker.process)


@pytest.fixture
def celery_worker_process(
    _celery_worker: WorkerProcess, transactional_db: None, smtp_sink: SmtpSink
) -> Iterator[WorkerProcess]:
    """A real ``celery worker`` subprocess on Redis, sending email to ``smtp_sink``.

    The test runs with committed transactions (the worker cannot see uncommitted rows)
    and this process enqueues for real, on the worker's own queue, instead of running
    tasks in-process as the rest of the suite does.
    """
    from config.celery_app import app

    assert _celery_worker.process.poll() is None, _celery_worker.log_tail()
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = _celery_worker.queue
    yield _celery_worker
    app.conf.task_always_eager, app.conf.task_default_queue = saved
    # Shown by pytest only when the test failed: what the worker did meanwhile.
    print(f"--- celery worker log ({_celery_worker.log}) ---\n{_celery_worker.log_tail()}")
