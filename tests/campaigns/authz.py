"""Authorization cases for the campaigns app, gathered from one module per area.

Each area of the console keeps its cases in ``tests/campaigns/authz_<area>.py`` with
optional ``setup(world)`` and a ``CASES`` list; this module joins them.
"""

from __future__ import annotations

import importlib

from tests.authz import World

AREAS = ("segments", "sending", "kinds", "suppressions")

_modules = []
for _area in AREAS:
    try:
        _modules.append(importlib.import_module(f"tests.campaigns.authz_{_area}"))
    except ModuleNotFoundError as error:
        if error.name != f"tests.campaigns.authz_{_area}":
            raise


def setup(world: World) -> None:
    for module in _modules:
        if hasattr(module, "setup"):
            module.setup(world)


CASES = [case for module in _modules for case in module.CASES]
