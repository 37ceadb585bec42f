"""CSV exports never hand a spreadsheet a formula (CSV injection).

Names and companies arrive through the CRM imports with formula payloads
(``=cmd|' /C calc'!A0``, ``+1+1``, ``-2``, ``@SUM(1)``); every other free-text column
of the matrix's world is set to one as well. Then every export URL of the matrix (any
URL name containing "export") is downloaded by a manager, and no text cell may start
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (campaigns/csv_safe.py
prefixes them with an apostrophe). A cell that is a number (a negative amount) is data.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from tests.authz import World
from tests.hostile.harness import client_for, poison_free_text
from tests.hostile.payloads import FORMULAS
from tests.hostile.tally import tried
from tests.test_authorization import CASES

pytestmark = pytest.mark.django_db

PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _import_formulas(world: World) -> None:
    client = client_for(world, "manager")
    rows = ["email,first_name,last_name,company,title,industry,joined_at,owner_rep_email"]
    for i, formula in enumerate(FORMULAS):
        rows.append(
            f'f{i}@example.com,"{formula.replace(chr(34), chr(34) * 2)}",{i},'
            f'"{formula.replace(chr(34), chr(34) * 2)}",@title,Software,2026-01-01,'
        )
    tried("formula cells imported", len(FORMULAS) * 4)
    upload = SimpleUploadedFile("a.csv", "\n".join(rows).encode(), "text/csv")
    # The upload queues the import; it runs at commit (in-process here, a worker live).
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("referrals:import"), {"kind": "advocates", "advocates-file": upload}
        )
    assert response.status_code == 302
    from advocates.models import Advocate

    assert Advocate.objects.filter(user__first_name="=cmd|' /C calc'!A0").exists()


def test_no_export_cell_can_run_as_a_formula(world: World) -> None:
    _import_formulas(world)
    poison_free_text("=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example")')
    exports = [c for c in CASES if c.method == "get" and "export" in c.name]
    assert exports, "no export URLs in the matrix"
    problems, cells, files = [], 0, 0
    for case in exports:
        if case.expect["manager"] != 200:
            continue
        kwargs = case.kwargs(world) if callable(case.kwargs) else case.kwargs
        url = reverse(case.name, kwargs=kwargs)
        response = client_for(world, "manager").get(url)
        body = b"".join(response) if response.streaming else response.content
        if "csv" not in response.get("Content-Type", ""):
            continue
        files += 1
        for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
            for cell in row:
                cells += 1
                if cell.startswith(PREFIXES) and not _number(cell):
                    problems.append(f"{url}: {cell[:60]!r}")
    tried("export cells checked", cells)
    assert files >= 3
    assert cells > 100
    assert not problems, "Formula cells in exports:\n" + "\n".join(problems[:40])
