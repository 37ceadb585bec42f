"""`make run` serves the demo on HOST:PORT, and the links it prints point there too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from django.conf import settings

# Stands in for the venv's python: each `$(PY) manage.py ...` line of the recipe prints
# the SITE_URL it would have run with, so the real recipe runs and nothing is served.
FAKE_PYTHON = '#!/bin/sh\necho "$2 SITE_URL=$SITE_URL"\n'


def _make_run(tmp_path: Path, *args: str, **env: str) -> list[str]:
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    # A stamp newer than pyproject.toml: the venv counts as installed.
    stamp = tmp_path / "installed"
    stamp.touch()
    base = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "MAKEFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"PY={fake}", f"STAMP={stamp}", *args],
        env=base | env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if "SITE_URL=" in line]


def test_site_url_follows_the_port(tmp_path: Path) -> None:
    lines = _make_run(tmp_path, "PORT=8101")
    assert lines, "the recipe ran no manage.py command"
    # migrate, demo_data and runserver: the demo's links and the served pages agree.
    assert all(line.endswith(" SITE_URL=http://127.0.0.1:8101") for line in lines), lines


def test_a_site_url_set_by_the_user_wins(tmp_path: Path) -> None:
    lines = _make_run(tmp_path, "PORT=8101", SITE_URL="https://tunnel.example.com")
    assert lines
    assert all(line.endswith(" SITE_URL=https://tunnel.example.com") for line in lines), lines
