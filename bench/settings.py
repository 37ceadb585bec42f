"""Production settings plus the bare view the benchmark compares every page with."""

from __future__ import annotations

import os

from config.settings import *

ROOT_URLCONF = "bench.urls"
# Static files collected for the benchmark only, outside the working tree.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", "/tmp/vouch-bench-static")
