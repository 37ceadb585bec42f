"""Demo content for the console, loaded by ``manage.py demo_data`` (idempotent).

Each area adds ``load(stdout)`` in ``campaigns/demo_<area>.py``; run in this order.
"""

from __future__ import annotations

import importlib
from typing import TextIO

AREAS = ("settings", "ams", "segments", "sending", "kinds")


def load(stdout: TextIO) -> None:
    for area in AREAS:
        try:
            module = importlib.import_module(f"campaigns.demo_{area}")
        except ModuleNotFoundError as error:
            if error.name != f"campaigns.demo_{area}":
                raise
            continue
        module.load(stdout)
