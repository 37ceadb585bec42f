"""Benchmark applying CRM pages: ``bench_crm_sync [--companies N] [--contacts N] [--deals N]``.

What a sync does with each page the CRM returns (integrations.crm.inbound.apply), at
scale, three times: the first read (everything new), the same records again (nothing
changed: nothing may be written), then with a tenth of them changed. Pages are the
CRMs' own sizes (Salesforce returns up to 2,000 records a query page, HubSpot's search
100; ``--page``). The records are the normalized dataclasses the providers return: the
HTTP side is bound by the CRM's rate limits, not by Vouch, and is not measured here.

Prints records/s and queries per page for each object and pass, and writes them to
bench/results/<date>-crm-sync.md. Needs an empty CRM connection: ``--flush`` empties
the database first, so give it one of its own.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from integrations.crm import base, inbound
from integrations.crm.models import CrmConnection
from integrations.crm.providers import provider_for
from integrations.crm.tokens import BOX

RESULTS = Path(__file__).resolve().parents[2] / "results"
WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def records(companies: int, contacts: int, deals: int) -> dict[str, list]:
    owners = [
        base.Owner(external_id=f"005{i:06d}", email=f"owner{i}@bench.example") for i in range(40)
    ]
    return {
        "owners": owners,
        "companies": [
            base.Company(
                external_id=f"001{i:08d}",
                name=f"Bench Company {i}",
                domain=f"bench{i}.example",
                industry=("Software", "Healthcare", "Finance")[i % 3],
                employees=50 + i % 4000,
                owner_id=owners[i % 40].external_id,
                modified_at=WHEN + timedelta(seconds=i),
            )
            for i in range(companies)
        ],
        "contacts": [
            base.Contact(
                external_id=f"003{i:08d}",
                email=f"person{i}@bench{i % companies}.example",
                first_name="Person",
                last_name=str(i),
                title="Director",
                company_id=f"001{i % companies:08d}",
                owner_id=owners[i % 40].external_id,
                modified_at=WHEN + timedelta(seconds=i),
            )
            for i in range(contacts)
        ],
        "deals": [
            base.Deal(
                external_id=f"006{i:08d}",
                name=f"Bench deal {i}",
                amount=Decimal(5000 + i % 90_000),
                stage=("Prospecting", "Qualification", "Proposal/Price Quote")[i % 3],
                company_id=f"001{i % companies:08d}",
                owner_id=owners[i % 40].external_id,
                modified_at=WHEN + timedelta(seconds=i),
            )
            for i in range(deals)
        ],
    }


def changed(items: list) -> list:
    """A tenth of the records with a new name (a contact: a new title)."""
    out = []
    for i, record in enumerate(items):
        if i % 10:
            out.append(record)
        elif isinstance(record, base.Contact):
            out.append(replace(record, title="Vice President"))
        elif isinstance(record, base.Owner):
            out.append(replace(record, last_name="Renamed"))
        else:
            out.append(replace(record, name=f"{record.name} (renamed)"))
    return out


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=10_000)
        parser.add_argument("--contacts", type=int, default=50_000)
        parser.add_argument("--deals", type=int, default=20_000)
        parser.add_argument("--page", type=int, default=200)
        parser.add_argument("--flush", action="store_true", help="Empty every table first.")
        parser.add_argument("--output", type=Path, help="Markdown results file to write.")

    def handle(self, *args: object, **options: object) -> None:
        if options["flush"]:
            call_command("flush", interactive=False, verbosity=0)
        if CrmConnection.objects.exists():
            raise CommandError("A CRM connection exists: pass --flush (on a bench database).")
        crm = CrmConnection.objects.create(
            provider="salesforce", access_token_encrypted=BOX.encrypt("bench")
        )
        provider = provider_for("salesforce")
        data = records(options["companies"], options["contacts"], options["deals"])  # type: ignore[arg-type]
        size: int = options["page"]  # type: ignore[assignment]
        rows = []
        for label, transform in (("first", None), ("again", None), ("10 % changed", changed)):
            for name in base.OBJECTS:
                items = data[name] if transform is None else transform(data[name])
                queries = pages = written = 0
                started = time.perf_counter()
                for start in range(0, len(items), size):
                    with CaptureQueriesContext(connection) as captured:
                        done = inbound.apply(crm, provider, name, items[start : start + size])
                    queries += len(captured)
                    pages += 1
                    written += sum(
                        done.counts.get(key, 0) for key in ("created", "matched", "updated")
                    )
                    reset_queries()
                seconds = time.perf_counter() - started
                rows.append((label, name, len(items), seconds, pages, queries, written))
                self.stderr.write(f"{label:>13} {name:>9}: {len(items) / seconds:,.0f} records/s")
        text = _markdown(rows, options)
        self.stdout.write(text)
        output = Path(
            str(options["output"] or RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-crm-sync.md")
        )
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Written to {output}")
        unchanged_writes = sum(r[6] for r in rows if r[0] == "again")
        if unchanged_writes:
            raise CommandError(f"The unchanged pass wrote {unchanged_writes} records.")


def _markdown(rows: list[tuple], options: dict) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"# CRM sync pages, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`manage.py bench_crm_sync --companies {options['companies']} --contacts"
        f" {options['contacts']} --deals {options['deals']} --page {options['page']}`",
        "",
        f"Machine: {os.cpu_count()} CPUs, load average {load} at the end, Python"
        f" {platform.python_version()}, {connection.vendor}.",
        "",
        "| pass | object | records | seconds | records/s | pages | queries/page | written |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, count, seconds, pages, queries, written in rows:
        lines.append(
            f"| {label} | {name} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} |"
            f" {pages:,} | {queries / max(pages, 1):.1f} | {written:,} |"
        )
    return "\n".join(lines) + "\n"
