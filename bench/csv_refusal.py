"""How long refusing an over-long CSV upload takes (tests/hostile/test_csv_imports.py
asserts that such a file is refused whole; this measures how fast).

    .venv/bin/python bench/csv_refusal.py                  # 100,000 rows, 5 repeats
    .venv/bin/python bench/csv_refusal.py 100000 300000 --repeat 3
    .venv/bin/python bench/csv_refusal.py --end-to-end     # also through the web views

For each size, a file of that many short rows goes through core.csv as a web upload
does (csv_upload_text then csv_read with CSV_UPLOAD_MAX_ROWS) until CsvFileError, and
the best and median times are printed. ``--end-to-end`` also runs the hostile test of
100,000-row uploads to each import page (SQLite, in-process) and prints pytest's
per-import durations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402

from core.csv import CsvFileError, csv_read  # noqa: E402

COLUMNS = ("email", "first_name", "last_name", "company", "title")


def _body(rows: int) -> bytes:
    lines = [",".join(COLUMNS)]
    lines += [f"person{i}@example.com,N{i},Doe,N{i} Inc,CTO" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _refuse(body: bytes) -> tuple[float, str]:
    upload = SimpleUploadedFile("people.csv", body, "text/csv")
    started = time.perf_counter()
    try:
        for _row in csv_read(upload, columns=COLUMNS):
            pass
    except CsvFileError as error:
        return time.perf_counter() - started, str(error)
    return time.perf_counter() - started, "accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="*", type=int, default=[100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--end-to-end", action="store_true")
    args = parser.parse_args()
    print(
        f"CSV_UPLOAD_MAX_ROWS={settings.CSV_UPLOAD_MAX_ROWS:,} "
        f"CSV_UPLOAD_MAX_BYTES={settings.CSV_UPLOAD_MAX_BYTES:,}"
    )
    print(f"{'rows':>9} {'MB':>6} {'best s':>8} {'median s':>9}  answer")
    for rows in args.rows:
        body = _body(rows)
        runs = [_refuse(body) for _ in range(args.repeat)]
        times = [seconds for seconds, _answer in runs]
        print(
            f"{rows:>9,} {len(body) / 1e6:>6.1f} {min(times):>8.3f} "
            f"{statistics.median(times):>9.3f}  {runs[0][1]}"
        )
    if args.end_to_end:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:randomly",
            "--durations=0",
            "tests/hostile/test_csv_imports.py",
            "-k",
            "100000",
        ]
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        subprocess.run(command, cwd=ROOT, env=environment, check=True)


if __name__ == "__main__":
    main()
