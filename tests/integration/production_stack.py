"""The production stack of tests/integration/test_production_smoke.py: the built wheel in
a fresh virtualenv outside the checkout, two gunicorn hosts behind Debian's nginx (with
deploy/nginx/vouch-proxy.conf), a worker per queue, beat, a Redis of its own, moto's S3
server and a Postmark-compatible API on loopback. That test's docstring says why each
piece is there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import requests
from django.conf import settings
from moto.server import ThreadedMotoServer
from requests.adapters import HTTPAdapter

from advocates.models import User
from core.queues import bulk_queue_for
from tests.integration.processes import (
    Gunicorn,
    RedisServer,
    Worker,
    _wait,
    build_wheel,
    csrf_token,
    free_port,
    install_site,
    require_live_stack,
    run,
    session_cookie,
    stop_process,
    test_database_url,
)

ROOT = Path(settings.BASE_DIR)
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
BUCKET, KEY_ID, KEY_SECRET = "vouch-smoke", "smoke-key-id", "smoke-secret-key"
WEBHOOK_SECRET = "postmark:smoke-webhook-secret"
PROVIDER_LATENCY = 0.02  # seconds the fake provider takes per message
SMOKE_SETTINGS = """\
# Production settings; only the email provider's API address is this test's.
import os

from config.settings import *  # noqa: F403
from config.settings import ANYMAIL

ANYMAIL = ANYMAIL | {"POSTMARK_API_URL": os.environ["SMOKE_POSTMARK_API_URL"]}
"""


# --- An email provider's API on loopback (Postmark's /email) ----------------------------


@dataclass
class PostmarkReplay:
    """Postmark's ``POST /email`` on loopback, answering every message with the answer
    Postmark documents for a success (recorded in django-anymail's
    tests/test_postmark_backend.py, release 15.1; tests/campaigns/test_email_provider.py
    replays the error answers). Here the provider only has to take mail: what is tested
    is the stack around it (queues, hosts, proxy, webhook)."""

    sent: list[tuple[float, str, str]] = field(default_factory=list)  # (time, to, subject)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[tuple[float, str, str]]:
        with self.lock:
            return [m for m in self.sent if m[1].lower() == address.lower()]

    def start(self) -> ThreadingHTTPServer:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(PROVIDER_LATENCY)  # the provider's own latency, not a wait
                with api.lock:
                    api.sent.append((time.monotonic(), payload["To"], payload["Subject"]))
                body = json.dumps(
                    {
                        "To": payload["To"],
                        "SubmittedAt": "2016-03-12T15:27:50.4468803-05:00",
                        "MessageID": str(uuid.uuid4()),  # one per message, as Postmark
                        "ErrorCode": 0,
                        "Message": "OK",
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


# --- nginx -----------------------------------------------------------------------------


def nginx_conf(prefix: Path, port: int, host_a: int, host_b: int) -> str:
    temp = "\n".join(
        f"  {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would drop to "nobody", who cannot read this test's
    # temporary folders; an unprivileged nginx stays who it is.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
  access_log {prefix / "access.log"};
{temp}
  upstream vouch_web {{ server 127.0.0.1:{host_a}; server 127.0.0.1:{host_b}; }}
  upstream vouch_a {{ server 127.0.0.1:{host_a}; }}
  upstream vouch_b {{ server 127.0.0.1:{host_b}; }}
  map $http_x_smoke_host $vouch_upstream {{ default vouch_web; a vouch_a; b vouch_b; }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 11m;
    location / {{
      proxy_pass http://$vouch_upstream;
      include {ROOT / "deploy" / "nginx" / "vouch-proxy.conf"};
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one loopback address: a distinct visitor as nginx sees it."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


# --- The stack ---------------------------------------------------------------------------


@dataclass
class Stack:
    base: str  # nginx
    hosts: dict[str, Gunicorn]
    redis: RedisServer
    broker_queue: str
    beat_log: Path
    api: PostmarkReplay
    s3_endpoint: str
    workers: dict[str, Worker]
    sessions: list[requests.Session] = field(default_factory=list)

    def session(self) -> requests.Session:
        session = requests.Session()
        self.sessions.append(session)
        return session

    def visitor(self, source: str = "127.0.0.1", user: User | None = None) -> requests.Session:
        session = self.session()
        session.mount("http://", SourceAddressAdapter(source))
        if user is not None:
            cookie = session_cookie(user)
            session.cookies.set(settings.SESSION_COOKIE_NAME, cookie, domain="127.0.0.1")
        return session

    def get(self, session: requests.Session, path: str, *, host: str | None = None):
        headers = {"X-Smoke-Host": host} if host else {}
        return session.get(self.base + path, headers=headers, allow_redirects=False, timeout=30)

    def post(self, session: requests.Session, path: str, *, host: str | None = None, **kw):
        headers = {"X-Smoke-Host": host} if host else {}
        headers |= kw.pop("headers", {})
        data = {"csrfmiddlewaretoken": csrf_token(session)} | kw.pop("data", {})
        return session.post(
            self.base + path, headers=headers, data=data, allow_redirects=False, timeout=30, **kw
        )

    def served_by(self, response: requests.Response) -> str:
        upstream = response.headers["X-Upstream"]
        return next(name for name, host in self.hosts.items() if upstream.endswith(f":{host.port}"))


@contextmanager
def production_stack(tmp_path: Path) -> Iterator[Stack]:
    """Install the wheel and start everything; stop it all on the way out."""
    require_live_stack()
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL to run it")
    if NGINX is None:
        pytest.skip("needs Debian's nginx (apt-get install nginx)")
    started = time.monotonic()
    site = tmp_path / "site"  # outside the checkout: nothing can be read from it
    site.mkdir()
    bin_ = install_site(build_wheel(tmp_path / "dist"), site / "venv")
    (site / "vouch_smoke_settings.py").write_text(SMOKE_SETTINGS)
    installed = time.monotonic() - started

    s3_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    s3_endpoint = f"http://127.0.0.1:{s3_port}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=KEY_SECRET,
    ).create_bucket(Bucket=BUCKET)
    api = PostmarkReplay()
    api_server = api.start()
    redis = RedisServer()
    redis.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    queue = f"smoke-{uuid.uuid4().hex[:10]}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(site)),
        "PYTHONPATH": str(site),  # the settings module above, and nothing of the checkout
        "DJANGO_SETTINGS_MODULE": "vouch_smoke_settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions this test signs in with
        "SITE_URL": base,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": base,
        "SECURE_SSL_REDIRECT": "false",  # nginx here speaks plain HTTP on loopback
        "SECURE_COOKIES": "false",
        "TRUSTED_PROXY_COUNT": "1",
        "DATABASE_URL": test_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis.url(0),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "STATIC_ROOT": str(site / "static"),
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": KEY_ID,
        "S3_SECRET_ACCESS_KEY": KEY_SECRET,
        "EMAIL_PROVIDER": "postmark",
        "POSTMARK_SERVER_TOKEN": "smoke-server-token",
        "EMAIL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SMOKE_POSTMARK_API_URL": f"http://127.0.0.1:{api_server.server_port}/",
        "VOUCH_MFA_REQUIRED_FOR_MANAGERS": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }
    run(bin_ / "vouch", "migrate", "--noinput", "-v0", cwd=site, env=env)
    run(bin_ / "vouch", "collectstatic", "--noinput", "-v0", cwd=site, env=env)

    logs = tmp_path / "logs"
    logs.mkdir()
    hosts = {
        name: Gunicorn(
            env=env,
            log=logs / f"host-{name}.log",
            workers=1,
            threads=4,
            program=(str(bin_ / "gunicorn"),),
            cwd=site,
        )
        for name in ("a", "b")
    }
    workers = [
        Worker(
            env=env,
            queue=queue,
            queues=q,
            log_dir=logs / q,
            cwd=site,
            program=(str(bin_ / "celery"),),
        )
        for q in (queue, bulk_queue_for(queue))
    ]
    for worker in workers:
        worker.log_dir.mkdir()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, port, hosts["a"].port, hosts["b"].port))
    beat_log = logs / "beat.log"
    processes: list[subprocess.Popen] = []
    try:
        for process in (*hosts.values(), *workers):
            process.launch()
        with beat_log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [bin_ / "celery", "-A", "config", "beat", "--loglevel=INFO"],
                    cwd=site,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        with (prefix / "stderr.log").open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [NGINX, "-p", prefix, "-c", prefix / "nginx.conf"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        for process in (*hosts.values(), *workers):
            process.wait_ready()

        def nginx_answers() -> bool:
            try:
                return requests.get(base + "/healthz", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        _wait(nginx_answers, timeout=30, what="nginx did not answer", log=prefix / "error.log")
        _wait(
            lambda: "beat: Starting" in beat_log.read_text(errors="replace"),
            timeout=30,
            what="beat did not start",
            log=beat_log,
        )
        print(
            f"\ninstalled the wheel in {installed:.0f} s; "
            f"stack up in {time.monotonic() - started:.0f} s"
        )
        smoke = Stack(
            base=base,
            hosts=hosts,
            redis=redis,
            broker_queue=queue,
            beat_log=beat_log,
            api=api,
            s3_endpoint=s3_endpoint,
            workers={"transactional": workers[0], "bulk": workers[1]},
        )
        yield smoke
        for session in smoke.sessions:
            session.close()
        assert processes[0].poll() is None, beat_log.read_text(errors="replace")[-3000:]
    finally:
        for process in processes:
            stop_process(process)
        for process in (*workers, *hosts.values()):
            process.stop()
        redis.stop()
        api_server.shutdown()
        api_server.server_close()
        s3.stop()
        for path in sorted(logs.rglob("*.log")):  # shown by pytest only on a failure
            print(f"--- {path.name} ---\n{path.read_text(errors='replace')[-2500:]}")
