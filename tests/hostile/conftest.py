"""Fixtures for the hostile-input suite (tests/hostile).

The totals of inputs tried are printed by the hooks in tests/hostile/tally.py, which
tests/conftest.py imports (see there why).
"""

from __future__ import annotations

# The authorization matrix's world: every persona and one object of each kind.
from tests.test_authorization import world  # noqa: F401
