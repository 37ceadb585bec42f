"""Spreadsheet-safe, streamed CSV (core.csv), used by every console export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from core.csv import csv_cell, stream_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Head of IT", "Head of IT"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (True, "yes"),
        (False, "no"),
        (-5, "-5"),
        (2.5, "2.5"),
        (date(2026, 3, 1), "2026-03-01"),
    ],
)
def test_csv_cell(value, expected) -> None:
    assert csv_cell(value) == expected


def test_csv_cell_datetime_is_iso_in_the_current_zone(settings) -> None:
    settings.TIME_ZONE = "UTC"
    assert csv_cell(datetime(2026, 3, 1, 9, 30, tzinfo=UTC)) == "2026-03-01T09:30:00+00:00"


def test_stream_csv_streams_a_safe_file() -> None:
    consumed = []

    def rows():
        for index in range(3):
            consumed.append(index)
            yield [index, f"=cmd{index}", 'O\'Brien, "Bob"']

    response = stream_csv(["id", "title", "name"], rows(), 'members of "x".csv')
    assert response.streaming
    assert consumed == []  # nothing is read before the response is sent
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="membersofx.csv"'
    chunks = list(response.streaming_content)
    assert len(chunks) == 5  # BOM, header, three rows: one chunk per line
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed == [
        ["id", "title", "name"],
        ["0", "'=cmd0", 'O\'Brien, "Bob"'],
        ["1", "'=cmd1", 'O\'Brien, "Bob"'],
        ["2", "'=cmd2", 'O\'Brien, "Bob"'],
    ]
