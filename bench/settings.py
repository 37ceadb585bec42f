"""Production settings plus the bare view the benchmark compares every page with."""

from __future__ import annotations

import os
from pathlib import Path

from config.settings import *  # noqa: F403 - every production setting, overridden below

ROOT_URLCONF = "bench.urls"
# Static files collected for the benchmark only, outside the working tree.
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", "/tmp/vouch-bench-static"))  # noqa: S108
