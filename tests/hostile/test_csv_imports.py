"""Every CSV import under hostile files: wrong encodings, BOM, missing and extra columns,
empty files, quoted newlines, NUL bytes, 100,000 rows.

A file that cannot be read is refused with a clear message and imports nothing; a
readable file with a BOM, extra columns or quoted line breaks imports its rows; a file
over an import's row limit is refused whole (nothing half-imported). Every import's
limit is the one upload cap, CSV_UPLOAD_MAX_ROWS (core.csv). How long a refusal
takes is measured by bench/csv_refusal.py, not asserted here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.hostile.harness import changed, table_counts
from tests.hostile.tally import tried

pytestmark = pytest.mark.django_db

# Audit entries record an attempted import, even one that imported nothing.
NOT_DATA = {"core.AuditEntry", "core.ProgramSettings"}
BIG_ROWS = 100_000


@dataclass
class Import:
    role: str
    url: Callable[[dict], str]
    field: str
    header: str
    row: Callable[[int, str], str]
    data: dict = field(default_factory=dict)


def _campaign(kind: str, view: str) -> Callable[[dict], str]:
    def url(ctx: dict) -> str:
        from campaigns.models import Campaign

        campaign = Campaign.objects.create(
            name=f"Hostile {kind}", kind=kind, subject="s", body="b", created_by=ctx["manager"]
        )
        return reverse(view, kwargs={"pk": campaign.pk})

    return url


IMPORTS = {
    "invitations": Import(
        "manager",
        lambda ctx: reverse("advocates:invite"),
        "file",
        "email,first_name,last_name,company,title",
        lambda i, name: f"person{i}@example.com,{name},Doe,{name} Inc,CTO",
        {"invite_csv": "1"},
    ),
    "CRM advocates": Import(
        "manager",
        lambda ctx: reverse("referrals:import"),
        "advocates-file",
        "email,first_name,last_name,company,title,industry,joined_at,owner_rep_email",
        lambda i, name: f"person{i}@example.com,{name},Doe,{name} Inc,CTO,Software,2026-01-01,",
        {"kind": "advocates"},
    ),
    "CRM referrals": Import(
        "manager",
        lambda ctx: reverse("referrals:import"),
        "referrals-file",
        "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
        "created_at,stage,stage_changed_at,deal_amount",
        lambda i, name: (
            f"EXT-{i},ada@example.com,{name},lead{i}@prospect{i}.example,"
            f"{name} Co,lead_form,2026-01-01,submitted,,"
        ),
        {"kind": "referrals"},
    ),
    "LinkedIn connections": Import(
        "rep",
        lambda ctx: reverse("references:graph"),
        "file",
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
        lambda i, name: (
            f"{name},Doe,https://www.linkedin.com/in/p{i},p{i}@example.com,"
            f"{name} Co,CTO,01 Jan 2026"
        ),
        {"import": "1"},
    ),
    "campaign contacts": Import(
        "manager",
        _campaign("invitation", "campaigns:kinds_contacts"),
        "file",
        "email,first_name,last_name,company,title",
        lambda i, name: f"person{i}@example.com,{name},Doe,{name} Inc,CTO",
    ),
    "campaign prospects": Import(
        "manager",
        _campaign("reference_drive", "campaigns:kinds_prospects"),
        "file",
        "name,email,company,industry,title,product",
        lambda i, name: f"{name},p{i}@prospect{i}.example,{name} Co,Software,CTO,",
        {"action": "import"},
    ),
}


def _csv(spec: Import, names: list[str], *, header: str | None = None) -> str:
    lines = [spec.header if header is None else header]
    lines += [spec.row(i, name) for i, name in enumerate(names)]
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def ctx(advocate, rep, manager) -> dict:
    advocate.owner_rep = rep
    advocate.save(update_fields=["owner_rep"])
    clients = {}
    for role, user in (("manager", manager), ("rep", rep)):
        clients[role] = Client()
        clients[role].force_login(user)
    # The rep's own node in the relationship graph, made on first use (not an import).
    from advocates.services import graph

    graph.person_for_user(rep)
    return {"manager": manager, "rep": rep, "clients": clients}


def _upload(ctx: dict, name: str, content: bytes, *, filename: str = "people.csv"):
    tried("csv uploads")
    spec = IMPORTS[name]
    url = spec.url(ctx)
    before = table_counts()
    data = spec.data | {spec.field: SimpleUploadedFile(filename, content, "text/csv")}
    response = ctx["clients"][spec.role].post(url, data=data, follow=True)
    assert response.status_code < 500
    wrote = {k: v for k, v in changed(before, table_counts()).items() if k not in NOT_DATA}
    return response, wrote


GOOD = ["Ann", "Bob", "Cy"]
READABLE = {
    "plain UTF-8": lambda spec: _csv(spec, GOOD).encode(),
    "UTF-8 with BOM": lambda spec: b"\xef\xbb\xbf" + _csv(spec, GOOD).encode(),
    "extra columns": lambda spec: "\r\n".join(
        [spec.header + ",notes,,x"] + [spec.row(i, n) + ",hi,," for i, n in enumerate(GOOD)]
    ).encode(),
    "quoted newlines": lambda spec: _csv(spec, ['"Ann\nMarie"', '"Bob, Jr."', "Cy"]).encode(),
    "LF line endings": lambda spec: _csv(spec, GOOD).replace("\r\n", "\n").encode(),
}
UNREADABLE = {
    "UTF-16": lambda spec: _csv(spec, GOOD).encode("utf-16"),
    "Latin-1": lambda spec: _csv(spec, ["Zoë", "José", "Müller"]).encode("latin-1"),
    "binary": lambda spec: os.urandom(4096),
    "empty": lambda spec: b"",
    "header only": lambda spec: (spec.header + "\r\n").encode(),
    "missing columns": lambda spec: _csv(spec, GOOD, header="foo,bar").encode(),
    "NUL in a cell": lambda spec: _csv(spec, ["An\x00n", "Bob", "Cy"]).encode(),
    "a zip named .csv": lambda spec: b"PK\x03\x04" + os.urandom(200),
}


@pytest.mark.parametrize("variant", READABLE)
@pytest.mark.parametrize("name", IMPORTS)
def test_readable_files_import_their_rows(ctx, name, variant) -> None:
    response, wrote = _upload(ctx, name, READABLE[variant](IMPORTS[name]))
    assert wrote, f"{name} / {variant}: nothing imported\n" + response.content.decode()[-3000:]


@pytest.mark.parametrize("variant", UNREADABLE)
@pytest.mark.parametrize("name", IMPORTS)
def test_unreadable_files_are_refused_and_import_nothing(ctx, name, variant) -> None:
    response, wrote = _upload(ctx, name, UNREADABLE[variant](IMPORTS[name]))
    if variant == "NUL in a cell" and wrote:
        # Importing the clean rows and listing the bad one is fine; storing a NUL is not.
        return
    assert not wrote, f"{name} / {variant} wrote {wrote}"
    page = response.content.decode()
    assert "alert--error" in page or "errorlist" in page or "not " in page, page[-3000:]


# Each import's limits (bytes, data rows). A file over them is refused whole. None: the
# one cap of web uploads (settings.CSV_UPLOAD_MAX_BYTES and CSV_UPLOAD_MAX_ROWS).
REFUSED_BIG = ("rows: split it", "is larger than")


@pytest.mark.parametrize("name", IMPORTS)
def test_a_file_of_100000_rows_is_refused_whole_and_imports_nothing(ctx, name) -> None:
    spec = IMPORTS[name]
    body = _csv(spec, [f"N{i}" for i in range(BIG_ROWS)]).encode()
    response, wrote = _upload(ctx, name, body)
    assert not wrote, f"{name}: {BIG_ROWS:,} rows half-imported: {wrote}"
    page = response.content.decode()
    assert any(reason in page for reason in REFUSED_BIG), page[-3000:]


@pytest.mark.parametrize("name", IMPORTS)
def test_one_row_over_the_row_limit_is_refused_whole(ctx, name, settings) -> None:
    spec = IMPORTS[name]
    # One cap for every upload (core.csv); lowered here so the file stays small.
    settings.CSV_UPLOAD_MAX_ROWS = rows = 50
    body = _csv(spec, ["N"] * (rows + 1)).encode()  # short rows: under the size limit
    response, wrote = _upload(ctx, name, body)
    assert not wrote, f"{name}: {rows + 1:,} rows half-imported: {wrote}"
    assert f"The file has more than {rows:,} rows: split it." in response.content.decode()
