#!/usr/bin/env python3
"""Mixed-role load benchmark: throughput and latency of tests/integration/locustfile.py's
traffic (advocates browsing and redeeming, reps, managers, anonymous visitors, at a
person's pace) against gunicorn with production settings, for a fixed duration.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vouch_bench \\
        .venv/bin/python bench/load.py [--duration 60] [--users 20] [--workers 2] [--threads 4]

Runs on the bench database (bench/README.md, section 1); its advocates redeem rewards,
so regenerate the data before a page benchmark that must see it untouched. Starts
gunicorn (bench.settings) on a free port, signs in sessions for up to 40 advocates with
points and for the bench rep and manager, runs locust headless for ``--duration``
seconds, and prints the figures as JSON (requests, failures, requests/s, median and
p95 in ms). Whether that traffic fails or breaks an invariant is
tests/integration/test_load.py's question, answered with a bounded request count.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "tests" / "integration" / "locustfile.py"
MANAGER_EMAIL = "bench-manager@bench.vouch"
REP_EMAIL = "bench-rep@bench.vouch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    """bench/run's server environment: production settings on loopback."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-not-for-production-0123"),
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
    )
    env.pop("TEMPLATE_STRING_IF_INVALID", None)
    return env


def make_plan(path: Path) -> None:
    """The sessions and ids the locustfile reads (its VOUCH_LOAD_PLAN)."""
    # Imported here: Django is set up for the bench database first (main's environment).
    import django  # noqa: PLC0415 - see above

    django.setup()
    from django.conf import settings  # noqa: PLC0415 - after django.setup()
    from django.test import Client  # noqa: PLC0415 - after django.setup()

    from advocates.models import Advocate, User  # noqa: PLC0415 - after django.setup()
    from referrals.services import referral_link_for  # noqa: PLC0415 - after django.setup()
    from rewards.models import Reward  # noqa: PLC0415 - after django.setup()

    def session(user: User) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    advocates = list(
        Advocate.objects.filter(status=Advocate.Status.ACTIVE, balance__gte=100)
        .select_related("user")
        .order_by("pk")[:40]
    )
    rewards = list(Reward.objects.order_by("pk").values_list("pk", flat=True)[:2])
    if not advocates or not rewards:
        sys.exit("No advocates with points or no rewards: run bench_data first (bench/README.md)")
    plan = {
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
        "advocates": [session(advocate.user) for advocate in advocates],
        "reps": [session(User.objects.get(email=REP_EMAIL))],
        "managers": [session(User.objects.get(email=MANAGER_EMAIL))],
        "reward_ids": rewards,
        "landing_codes": [referral_link_for(advocate_id=a.pk).code for a in advocates[:10]],
    }
    path.write_text(json.dumps(plan))


def wait_for_server(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited")
        try:
            urllib.request.urlopen(url + "/healthz", timeout=5)  # noqa: S310 - loopback
            return
        except urllib.error.HTTPError:
            return  # it answers (a 503 names a service that is down, not a dead server)
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vouch_bench")
    env = server_env(database_url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    with tempfile.TemporaryDirectory(prefix="vouch-load-") as tmp:
        plan = Path(tmp) / "plan.json"
        make_plan(plan)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                python, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                "--worker-class", "gthread", "--threads", str(args.threads),
                "--timeout", "60", "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        try:
            wait_for_server(url, server)
            prefix = Path(tmp) / "locust"
            result = Path(tmp) / "result.json"
            started = time.monotonic()
            subprocess.run(
                [
                    python, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                    "-u", str(args.users), "-r", "5", "-t", f"{args.duration}s",
                    "--stop-timeout", "15", "--host", url, "--csv", str(prefix),
                    "--only-summary", "--loglevel", "WARNING",
                ],
                env=env | {"VOUCH_LOAD_PLAN": str(plan), "VOUCH_LOAD_RESULT": str(result)},
                check=False,  # exit 1 when a request failed: the figures say how many
            )  # fmt: skip
            elapsed = time.monotonic() - started
            counts = json.loads(result.read_text())  # final; the CSV may miss the last second
            with open(f"{prefix}_stats.csv", newline="") as stats_file:
                total = {row["Name"]: row for row in csv.DictReader(stats_file)}["Aggregated"]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        json.dumps(
            {
                "users": args.users,
                "gunicorn": f"{args.workers} workers x {args.threads} threads",
                "seconds": round(elapsed),
                "requests": counts["requests"],
                "failures": counts["failures"],
                "requests_per_s": round(float(total["Requests/s"]), 1),
                "median_ms": float(total["Median Response Time"]),
                "p95_ms": float(total["95%"]),
            }
        )
    )


if __name__ == "__main__":
    main()
