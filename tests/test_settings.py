"""The one settings module refuses to start in production without what it needs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

LOAD = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"


def _load(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SITE_URL", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", LOAD],
        env=base | {"DJANGO_SETTINGS_MODULE": "config.settings"} | env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"SITE_URL": "https://vouch.example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "SITE_URL"),
    ],
)
def test_production_refuses_to_start_without(env: dict[str, str], missing: str) -> None:
    result = _load(DEBUG="false", **env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_debug_mode_has_embedded_defaults() -> None:
    result = _load(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8000"


def test_a_bad_boolean_is_an_error_not_a_guess() -> None:
    result = _load(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
