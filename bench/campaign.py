"""Campaign send benchmark (issue 7): N recipients, 2 Celery worker processes, an SMTP sink.

    .venv/bin/python bench/campaign.py --recipients 100000
    .venv/bin/python bench/campaign.py --recipients 10000      # quick run

What it does (bench/README.md, "Campaign send"):

1. opens the bench database (``BENCH_DATABASE_URL`` or ``DATABASE_URL``, default
   ``postgres://postgres@127.0.0.1:5432/vouch_bench``) and flushes Redis db
   ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/9``);
2. starts an aiosmtpd sink on a free loopback port in its own process; it counts the
   messages, the distinct recipients and the time of the last one;
3. picks exactly N recipients: whole companies of active bench advocates while they fit,
   plus temporary advocates in a temporary company for the remainder (the bench data has
   about 85,000 active advocates, so 100,000 needs about 15,000 of them); the segment is
   "any of these companies";
4. starts 2 Celery workers (``celery worker --pool=prefork --concurrency=1``, twice: two
   pool processes do the sending) on a queue of their own;
5. starts the campaign through ``campaigns.services.campaigns.campaign_start`` (timed on its own:
   that is the message-row creation), waits until the campaign is "sent", samples each
   pool process's RSS meanwhile, and prints the figures;
6. deletes everything it created (campaign, messages, segment, temporary advocates,
   users and company, audit and outbox rows, the program settings row if it made it), so
   the page benchmarks find the database as it was.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from core.queues import bulk_queue_for

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vouch_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
TOPUP_DOMAIN = "campaign-topup.bench.invalid"
TOPUP_COMPANY = "Bench campaign top-up (temporary)"
MARKER = "bench-campaign"


def free_port() -> int:
    # aiosmtpd's Controller(port=0) fails its readiness check: pick the port first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The SMTP sink (its own process) ------------------------------------------------------


def _sink_main(port: int, count, last, ready, stop, result) -> None:
    from aiosmtpd.controller import Controller

    recipients: set[str] = set()

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            recipients.update(address.lower() for address in envelope.rcpt_tos)
            count.value += 1  # one event loop thread: no lock needed
            last.value = time.time()
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    result.put(len(recipients))


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.count = multiprocessing.Value("q", 0, lock=False)
        self.last = multiprocessing.Value("d", 0.0, lock=False)
        self._ready = multiprocessing.Event()
        self._stop = multiprocessing.Event()
        self._result: multiprocessing.Queue = multiprocessing.Queue()
        self.process = multiprocessing.Process(
            target=_sink_main,
            args=(self.port, self.count, self.last, self._ready, self._stop, self._result),
            daemon=True,
        )

    def start(self) -> None:
        self.process.start()
        if not self._ready.wait(20):
            raise SystemExit("the SMTP sink did not start")

    def stop(self) -> int:
        """Stop the sink; the number of distinct recipients it received."""
        self._stop.set()
        distinct = self._result.get(timeout=30)
        self.process.join(10)
        return distinct


# --- Worker memory ------------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class Workers:
    """Two ``celery worker`` parents, each with one prefork pool process (the sender)."""

    def __init__(self, count: int, env: dict[str, str], queue: str, log_dir: Path) -> None:
        self.count, self.env, self.queue, self.log_dir = count, env, queue, log_dir
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self) -> None:
        for n in range(self.count):
            log = self.log_dir / f"worker{n}.log"
            self.logs.append(log)
            command = [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--pool=prefork", "--concurrency=1",
                "-Q", f"{self.queue},{bulk_queue_for(self.queue)}",
                "-n", f"{self.queue}-{n}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel=WARNING",
            ]  # fmt: skip
            with log.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        command, cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + 90
        while len(self.pool_pids()) < self.count:
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    raise SystemExit(f"a worker died at start:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start their pool processes")
            time.sleep(0.2)
        time.sleep(2)  # the pool process imports Django and connects to Redis

    def pool_pids(self) -> list[int]:
        return [child for process in self.processes for child in _children(process.pid)]

    def memory(self) -> dict[int, tuple[int, int]]:
        """pool pid -> (VmRSS, VmHWM) in KiB."""
        return {
            pid: (_status_kb(pid, "VmRSS"), _status_kb(pid, "VmHWM")) for pid in self.pool_pids()
        }

    def parents_hwm(self) -> list[int]:
        return [_status_kb(process.pid, "VmHWM") for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# --- Recipients, campaign, cleanup --------------------------------------------------------


def _pick_companies(n: int) -> tuple[list[int], int]:
    """Whole companies of active advocates while they fit in ``n`` (largest first)."""
    from django.db.models import Count

    from advocates.models import Advocate

    rows = (
        Advocate.objects.filter(status=Advocate.Status.ACTIVE, company__isnull=False)
        .values("company_id")
        .annotate(n=Count("id"))
        .order_by("-n", "company_id")
    )
    chosen, total = [], 0
    for row in rows:
        if total + row["n"] <= n:
            chosen.append(row["company_id"])
            total += row["n"]
        if total == n:
            break
    return chosen, total


def _topup(count: int, run: str, state: dict) -> int:
    """A temporary company with ``count`` active advocates (deleted by cleanup)."""
    from django.utils import timezone

    from advocates.models import Advocate, Company, User

    company = Company.objects.create(name=TOPUP_COMPANY, domain=f"{run}.{TOPUP_DOMAIN}")
    state["topup_company_id"] = company.pk  # cleaned up even if what follows fails
    now = timezone.now()
    for start in range(0, count, 5000):
        users = User.objects.bulk_create(
            [
                User(
                    email=f"{MARKER}-{run}-{i}@{TOPUP_DOMAIN}",
                    first_name=f"Topup{i}",
                    last_name="Bench",
                )
                for i in range(start, min(count, start + 5000))
            ]
        )
        Advocate.objects.bulk_create(
            [
                Advocate(user=u, company=company, status=Advocate.Status.ACTIVE, joined_at=now)
                for u in users
            ]
        )
    return company.pk


def cleanup(state: dict) -> None:
    """Delete what this run created; the database is left as the run found it."""
    from django.db import connection, transaction

    from advocates.models import Advocate, Company, User
    from campaigns.models import Campaign, CampaignMessage, Segment
    from core.models import AuditEntry, OutboxTask, ProgramSettings
    from referrals.models import ReferralLink

    with transaction.atomic():
        campaign_id = state.get("campaign_id")
        if campaign_id:
            # Raw deletes: 100,000 rows without loading them (nothing cascades from them).
            CampaignMessage.objects.filter(campaign_id=campaign_id)._raw_delete(connection.alias)
            AuditEntry.objects.filter(
                target_type="campaigns.campaign", target_id=str(campaign_id)
            ).delete()
            OutboxTask.objects.filter(
                task="campaigns.sending.campaign_send_batch", args=[campaign_id]
            ).delete()
            Campaign.objects.filter(pk=campaign_id).delete()
        if state.get("segment_id"):
            Segment.objects.filter(pk=state["segment_id"]).delete()
        company_id = state.get("topup_company_id")
        if company_id:
            advocates = Advocate.objects.filter(company_id=company_id)
            ReferralLink.objects.filter(advocate__in=advocates)._raw_delete(connection.alias)
            user_ids = list(advocates.values_list("user_id", flat=True))
            advocates._raw_delete(connection.alias)
            User.objects.filter(pk__in=user_ids).delete()
            Company.objects.filter(pk=company_id).delete()
        if state.get("made_program_settings"):
            ProgramSettings.objects.filter(pk=1).delete()
        elif "fatigue_cap" in state:
            ProgramSettings.objects.filter(pk=1).update(fatigue_cap_per_week=state["fatigue_cap"])
    from django.core.cache import cache

    from core.models import PROGRAM_SETTINGS_CACHE_KEY

    cache.delete(PROGRAM_SETTINGS_CACHE_KEY)
    if connection.vendor == "postgresql":
        # The bench server runs without autovacuum (bench_data ends with VACUUM): the rows
        # inserted and deleted here would otherwise leave the pages the page benchmarks
        # read without their visibility map (index-only scans reading the table again).
        touched = [CampaignMessage, Campaign, Segment, AuditEntry, OutboxTask, ReferralLink]
        tables = [model._meta.db_table for model in [*touched, Advocate, User, Company]]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'VACUUM (ANALYZE) "{table}"')  # our own model tables


# --- The run ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--parallelism",
        type=int,
        default=4,
        help="CAMPAIGN_SEND_PARALLELISM: batch chains started (default 4: two per worker, "
        "so a worker never idles while its next task is being published)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="give up after (s)")
    args = parser.parse_args()

    database_url = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    run = uuid.uuid4().hex[:8]
    queue = f"{MARKER}-{run}"
    sink = Sink()
    sink.start()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_USE_SSL": "false",
        "CAMPAIGN_SEND_PARALLELISM": str(args.parallelism),
        "DEBUG": "false",  # no query log growing in the workers
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-campaign-" + "x" * 40),
        "SITE_URL": os.environ.get("SITE_URL", "https://vouch.example.com"),
    }
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    import redis
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignMessage, Segment
    from campaigns.selectors import campaign_progress
    from campaigns.services.campaigns import campaign_start
    from core.models import ProgramSettings

    redis.Redis.from_url(redis_url).flushdb()
    load = os.getloadavg()
    print(f"database {connection.settings_dict['NAME']}, redis {redis_url}, sink port {sink.port}")
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)"
    )

    state: dict = {}
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", Path(tempfile.gettempdir()) / queue))
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = Workers(args.workers, os.environ.copy(), queue, log_dir)
    try:
        state["made_program_settings"] = not ProgramSettings.objects.filter(pk=1).exists()
        program = ProgramSettings.load()
        state["fatigue_cap"] = program.fatigue_cap_per_week
        companies, from_bench = _pick_companies(args.recipients)
        topup = args.recipients - from_bench
        started = time.monotonic()
        if topup:
            companies.append(_topup(topup, run, state))
        print(
            f"recipients: {args.recipients:,} = {from_bench:,} active bench advocates in "
            f"{len(companies) - bool(topup):,} companies + {topup:,} temporary "
            f"({time.monotonic() - started:.1f} s to add them)"
        )
        segment = Segment.objects.create(name=f"Bench {run}", filters={"companies": companies})
        state["segment_id"] = segment.pk
        campaign = Campaign.objects.create(
            name=f"Bench campaign {run}",
            kind=Campaign.Kind.REFERRAL_DRIVE,
            segment=segment,
            subject="{{ first_name }}, your referral link for {{ program_name }}",
            body=(
                "Hi {{ first_name }},\n\nThanks for being part of {{ program_name }}. "
                "Know someone who would like it? Share your link: {{ referral_link }}\n\n"
                "Our docs: https://docs.example.com/getting-started\n\nThe team"
            ),
        )
        state["campaign_id"] = campaign.pk
        workers.start()
        print(
            f"workers: {args.workers} x celery prefork --concurrency=1, "
            f"pool pids {workers.pool_pids()}"
        )
        baseline = workers.memory()

        t0 = time.monotonic()
        wall0 = time.time()
        total = campaign_start(campaign=campaign, actor=None)
        t_created = time.monotonic()
        wall_created = time.time()
        print(f"campaign_start: {total:,} message rows in {t_created - t0:.2f} s")

        marks = sorted({m for m in (10_000, 50_000, total) if m <= total})
        memory_at: dict[int, dict[int, tuple[int, int]]] = {}
        deadline = t0 + args.timeout
        while True:
            time.sleep(0.5)
            memory = workers.memory()
            done = sink.count.value
            for mark in marks:
                if mark not in memory_at and done >= mark:
                    memory_at[mark] = memory
            status = Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)
            if status == Campaign.Status.SENT:
                break
            if time.monotonic() > deadline:
                print("TIMED OUT", campaign_progress(campaign.pk))
                break
        time.sleep(1)  # the sink takes the last "." off the wire
        final_memory = workers.memory()
        parents = workers.parents_hwm()
        progress = campaign_progress(campaign.pk)
        received = sink.count.value
        last = sink.last.value
        errors = list(
            CampaignMessage.objects.filter(campaign=campaign)
            .exclude(error="")
            .values_list("error", flat=True)[:5]
        )
        load = os.getloadavg()
    finally:
        workers.stop()
        distinct = sink.stop()
        cleanup(state)
        started_cleanup = timezone.now()
    send_seconds = last - wall_created if last else float("nan")
    total_seconds = last - wall0 if last else float("nan")
    sent = progress["sent"]
    print()
    print(f"recipients        {progress['total']:,}")
    print(f"sent              {sent:,}")
    print(
        f"skipped           {progress['skipped']:,} "
        f"(unsubscribed {progress['skipped_unsubscribed']}, "
        f"fatigue {progress['skipped_fatigue']}, inactive {progress['skipped_inactive']})"
    )
    print(f"failed            {progress['failed']:,}")
    print(f"create (rows)     {t_created - t0:.2f} s  (campaign_start)")
    print(f"send              {send_seconds:.2f} s  (start committed -> last message at the sink)")
    print(f"total             {total_seconds:.2f} s  (campaign_start called -> last message)")
    print(f"emails/s (send)   {sent / send_seconds:,.0f}")
    print(f"emails/s (total)  {sent / total_seconds:,.0f}")
    ok = received == sent == distinct
    print(
        f"sink messages     {received:,} ({distinct:,} distinct recipients): "
        f"{'== sent' if ok else 'MISMATCH'}"
    )
    if errors:
        print(f"row errors        {errors}")
    print("worker pool processes, RSS (VmRSS / peak VmHWM, MiB):")
    for pid in sorted(final_memory):
        cells = [f"idle {baseline.get(pid, (0, 0))[0] / 1024:.0f}"]
        for mark in marks:
            rss, hwm = memory_at.get(mark, {}).get(pid, (0, 0))
            cells.append(f"at {mark:,} sent {rss / 1024:.0f}/{hwm / 1024:.0f}")
        cells.append(f"peak {final_memory[pid][1] / 1024:.0f}")
        print(f"  pid {pid}: " + ", ".join(cells))
    print(f"worker parents peak: {', '.join(f'{kb / 1024:.0f}' for kb in parents)} MiB")
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"cleaned up at {started_cleanup:%H:%M:%S}; worker logs in {log_dir}")
    return (
        0
        if ok and not progress["failed"] and sent + progress["skipped"] == progress["total"]
        else 1
    )


if __name__ == "__main__":
    raise SystemExit(main())
