"""Counts of hostile inputs tried, per category, printed at the end of the run.

Every hostile test calls ``tried(category)`` for each input it sends. Under
pytest-xdist each worker sends its counts to the controller (``workeroutput``), which
prints the totals in the terminal summary and writes them to
``artifacts/hostile_inputs.json`` so docs/reliability.md can quote "inputs tried".

The hooks are imported by tests/conftest.py: under xdist the controller never loads
tests/hostile/conftest.py (it collects nothing), so the summary must hang off the
top-level conftest to be printed at all.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

COUNTS: Counter[str] = Counter()
_KEY = "hostile_inputs"


def tried(category: str, n: int = 1) -> None:
    COUNTS[category] += n


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput[_KEY] = dict(COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    COUNTS.update(getattr(node, "workeroutput", {}).get(_KEY, {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COUNTS or hasattr(terminalreporter.config, "workeroutput"):
        return
    terminalreporter.section("hostile inputs tried")
    for category, n in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{category:<28} {n:>8}")
    terminalreporter.write_line(f"{'total':<28} {sum(COUNTS.values()):>8}")
    out = Path(terminalreporter.config.rootpath) / "artifacts" / "hostile_inputs.json"
    try:
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            json.dumps(dict(sorted(COUNTS.items())) | {"total": sum(COUNTS.values())}, indent=2)
            + "\n"
        )
    except OSError:
        pass  # a read-only checkout still gets the printed summary
