"""Real processes for the fault and load tests: a private Redis, Celery workers that can
be killed and restarted, gunicorn, all against the committed PostgreSQL test database.

The session-wide worker of tests/conftest.py is shared by the tests of a process, so a
test that kills its worker or stops its Redis starts its own here instead. Every process
is started with tests/integration/live_settings.py (production settings, static files
from source, a 10 s visibility timeout) and stopped by the test that started it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.queues import bulk_queue_for

REDIS_SERVER = shutil.which("redis-server")


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    """Run a command to completion; fail with the end of its output if it failed."""
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def build_wheel(into: Path) -> Path:
    """``make wheel``: the checkout built into ``into/vouch-*.whl``."""
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", into,
        settings.BASE_DIR)  # fmt: skip
    (wheel,) = into.glob("vouch-*.whl")
    return wheel


def install_site(wheel: Path, venv: Path) -> Path:
    """A fresh virtualenv at ``venv`` (outside the checkout) with the pinned production
    dependencies (requirements/prod.txt) and the wheel, as README "Production" installs
    it; returns its ``bin`` folder (``vouch``, ``gunicorn``, ``celery``)."""
    run(sys.executable, "-m", "venv", venv)
    pip = venv / "bin" / "pip"
    run(pip, "install", "--quiet", "-r", Path(settings.BASE_DIR) / "requirements" / "prod.txt")
    run(pip, "install", "--quiet", "--no-deps", wheel)
    return venv / "bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_live_stack() -> None:
    """Skip (CI turns it into a failure) without PostgreSQL or a redis-server binary."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (other processes read it)")
    if REDIS_SERVER is None:
        pytest.skip("needs the redis-server program (apt-get install redis-server)")


def test_database_url() -> str:
    """DATABASE_URL pointed at the test database pytest-django created."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path="/" + connection.settings_dict["NAME"]).geturl()


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test


def process_env(*, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like process on the test database."""
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.integration.live_settings",
        "DATABASE_URL": test_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "SITE_URL": settings.SITE_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _wait(condition, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log else ""
            raise AssertionError(f"{what} within {timeout}s\n{tail}")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen, *, timeout: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# --- Redis ------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A redis-server of this test's own, on a free port (never the shared one)."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        # No retries: redis-py's default retries a refused connection for seconds, and
        # "not answering" is what start() and stop() wait on.
        return redis.Redis(port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(self.ping, timeout=15, what=f"redis-server did not answer on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        _wait(lambda: not self.ping(), timeout=10, what="redis-server did not stop")


# --- Celery worker ----------------------------------------------------------------------


@dataclass
class Worker:
    """A ``celery worker`` subprocess (solo pool, one message at a time)."""

    env: dict[str, str]
    queue: str
    log_dir: Path
    process: subprocess.Popen | None = None
    starts: int = 0
    # Which queues it consumes (-Q): both of ``queue`` unless given.
    queues: str | None = None
    # The celery program and where it runs: this checkout's, unless an installed site's.
    program: tuple[str, ...] = (sys.executable, "-m", "celery")
    cwd: Path = field(default_factory=lambda: Path(settings.BASE_DIR))

    @property
    def log(self) -> Path:
        return self.log_dir / f"worker-{self.starts}.log"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process; ``wait_ready()`` waits for it (start others meanwhile)."""
        self.starts += 1
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *self.program, "-A", "config", "worker",
                    "--pool=solo", "--concurrency=1",
                    "-Q", self.queues or f"{self.queue},{bulk_queue_for(self.queue)}",
                    "-n", f"{self.queues or self.queue}-{self.starts}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--loglevel=INFO",
                ],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self) -> None:
        assert self.process is not None
        _wait(
            lambda: (
                " ready." in self.log.read_text(errors="replace") or self.process.poll() is not None
            ),
            timeout=60,
            what="the Celery worker did not start",
            log=self.log,
        )
        assert self.process.poll() is None, self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged or handed back."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def idle(self) -> bool:
        """Every task this process received has finished (succeeded, failed or retried)."""
        text = self.log.read_text(errors="replace")
        return len(RECEIVED.findall(text)) == len(FINISHED.findall(text))

    def wait_settled(self, broker: redis.Redis, *, timeout: float) -> None:
        """Until no task is left to run: none queued, none held unacknowledged (so none
        can be handed out again), none running. Seen twice in a row: a message popped
        from the queue is in nobody's hands for an instant before it counts as unacked.
        """

        def settled() -> bool:
            queued = broker.llen(self.queue) + broker.llen(bulk_queue_for(self.queue))
            return queued == 0 and broker.hlen("unacked") == 0 and self.idle()

        def settled_twice() -> bool:
            if not settled():
                return False
            time.sleep(0.1)
            return settled()

        _wait(
            settled_twice,
            timeout=timeout,
            what="the queue did not settle (tasks queued, unacknowledged or running)",
            log=self.log,
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} ---\n" + path.read_text(errors="replace")[-6000:]
            for path in sorted(self.log_dir.glob("worker-*.log"))
        )


RECEIVED = re.compile(r"Task \S+\[[0-9a-f-]+\] received")
# celery.app.trace's log lines for a task that ended, one way or another.
FINISHED = re.compile(
    r"Task \S+\[[0-9a-f-]+\] (?:succeeded|raised|retry|ignored|INTERNAL ERROR|Reject)"
)


def make_worker(env: dict[str, str], log_dir: Path) -> Worker:
    queue = f"test-{uuid.uuid4().hex[:12]}"
    return Worker(env=env | {"CELERY_TASK_DEFAULT_QUEUE": queue}, queue=queue, log_dir=log_dir)


# --- gunicorn ---------------------------------------------------------------------------


@dataclass
class Gunicorn:
    env: dict[str, str]
    log: Path
    workers: int = 1
    threads: int = 4
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    program: tuple[str, ...] = (sys.executable, "-m", "gunicorn")
    cwd: Path = field(default_factory=lambda: Path(settings.BASE_DIR))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        try:
            requests.get(self.url + "/healthz", timeout=15)
        except requests.ConnectionError:
            return False
        return True

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process; ``wait_ready()`` waits for it (start others meanwhile)."""
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *self.program, "config.wsgi:application",
                    "--bind", f"127.0.0.1:{self.port}",
                    "--workers", str(self.workers), "--worker-class", "gthread",
                    "--threads", str(self.threads), "--timeout", "60",
                    # One shared control socket path would clash between test processes.
                    "--no-control-socket",
                ],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self) -> None:
        assert self.process is not None
        _wait(
            lambda: self._answers() or self.process.poll() is not None,
            timeout=60,
            what="gunicorn did not start",
            log=self.log,
        )
        assert self.process.poll() is None, self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def session_cookie(user) -> str:
    """A signed-in session for ``user`` in the database, as the server reads it."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def browser(base_url: str, user=None) -> requests.Session:
    """A requests session, signed in as ``user`` when given."""
    session = requests.Session()
    if user is not None:
        session.cookies.set(settings.SESSION_COOKIE_NAME, session_cookie(user), domain="127.0.0.1")
    session.headers["User-Agent"] = "vouch-integration-test"
    return session


def csrf_token(session: requests.Session) -> str:
    return next((c.value for c in session.cookies if c.name == settings.CSRF_COOKIE_NAME), "")
