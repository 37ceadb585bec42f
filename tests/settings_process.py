"""Loading the settings in a fresh process, as a deployment would with its environment."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

# The variables a test sets itself: never inherited from the test run's environment.
OWN = ("SECRET_KEY", "SITE_URL", "DEBUG", "MEDIA_", "S3_", "DB_PGBOUNCER", "ZOOM_")


def settings_process(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` after ``django.setup()`` with ``config.settings`` and ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(OWN)}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=base | {"DJANGO_SETTINGS_MODULE": "config.settings"} | env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
