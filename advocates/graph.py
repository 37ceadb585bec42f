"""The relationship graph: people, who knows whom, and reading LinkedIn connections.

A connections file may carry an optional "Interests" column (several separated by
";"): what each contact cares about, added to their interests.

People are merged by email (case-insensitive), else by LinkedIn URL, so the same human
imported by two owners, or added by hand and later imported, is one Person. This module
reads the graph and parses a LinkedIn export; its writes are ``advocates.services.graph``.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator, validate_email
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from advocates.models import Advocate, JobChange, Person, PersonInterest, Relationship, User
from core.csv import CsvFileError, csv_read, csv_upload_text

LINKEDIN_COLUMNS = (
    "First Name",
    "Last Name",
    "URL",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
)
INTERESTS_COLUMN = "interests"  # optional, ";"-separated
INTEREST_MAX_LENGTH = 100
MAX_INTERESTS = 20  # per person, and per row of a file
# LinkedIn puts a few "Notes:" lines above the header; look this far for it.
HEADER_SEARCH_LINES = 20
CsvSource = UploadedFile | IO[str] | str


# --- People -----------------------------------------------------------------------------


def normalize_linkedin_url(url: str) -> str:
    """One spelling per profile: https, lower-case host and path, no query, no slash."""
    url = (url or "").strip()
    if not url:
        return ""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    host = parts.netloc.lower()
    path = parts.path.rstrip("/").lower()
    return f"https://{host}{path}"


def find_person(*, email: str, linkedin_url: str) -> Person | None:
    if email:
        person = Person.objects.filter(email__iexact=email).first()
        if person is not None:
            return person
    if linkedin_url:
        return Person.objects.filter(linkedin_url=linkedin_url).first()
    return None


def find_person_for_user(user: User) -> Person | None:
    """The user's node if the graph has one, looked up the way
    ``services.graph.person_for_user`` would link it, but never created: pages that only
    show the graph run this on GET."""
    advocate = Advocate.objects.filter(user=user).first()
    if advocate is not None:
        person = Person.objects.filter(advocate=advocate).first()
        if person is not None:
            return person
    else:
        person = Person.objects.filter(user=user).first()
        if person is not None:
            return person
    return find_person(
        email=user.email.strip().lower(),
        linkedin_url=normalize_linkedin_url(advocate.linkedin_url) if advocate else "",
    )


def interests_parse(text: str, *, separators: str = ";") -> list[str]:
    """Interest names from ``text``: trimmed, inner spaces collapsed, duplicates (any
    case) dropped, first spelling kept. Raises ValueError for one that is too long."""
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    names: dict[str, str] = {}
    for raw in text.split(separators[0]):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > INTEREST_MAX_LENGTH:
            raise ValueError(
                _("“%(start)s…” is longer than %(most)s characters.")
                % {"start": name[:30], "most": INTEREST_MAX_LENGTH}
            )
        names.setdefault(name.lower(), name)
    return list(names.values())


def same_company(first: str, second: str) -> bool:
    """Whether two company names are the same company, spelt as people type them."""
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


def people_search(*, text: str = "", interest: str = "") -> QuerySet[Person]:
    """People of the graph by name, company or title (``text``) and/or by interest (any
    case), with their interests prefetched: one query for the page, one for them."""
    people = Person.objects.prefetch_related(
        Prefetch("interests", queryset=PersonInterest.objects.order_by(Lower("name"), "id"))
    ).order_by("full_name", "id")
    text = " ".join(text.split())
    if text:
        people = people.filter(
            Q(full_name__icontains=text)
            | Q(company_name__icontains=text)
            | Q(title__icontains=text)
        )
    interest = " ".join(interest.split()).lower()
    if interest:
        people = people.filter(
            pk__in=PersonInterest.objects.annotate(lname=Lower("name"))
            .filter(lname=interest)
            .values("person_id")
        )
    return people


def interest_names(limit: int = 200) -> list[str]:
    """The interests people have, most common first (for the search's suggestions)."""
    rows = (
        PersonInterest.objects.annotate(lname=Lower("name"))
        .values("lname")
        .annotate(n=Count("id"))
        .order_by("-n", "lname")
        .values_list("lname", flat=True)[:limit]
    )
    return list(rows)


def person_detail(pk: int) -> Person:
    """One person with their interests and job changes (Person.DoesNotExist if none)."""
    return Person.objects.prefetch_related(
        Prefetch("interests", queryset=PersonInterest.objects.order_by(Lower("name"), "id")),
        Prefetch("job_changes", queryset=JobChange.objects.order_by("-detected_at", "-id")),
    ).get(pk=pk)


# --- Edges ------------------------------------------------------------------------------


def neighbour_ids(person_id: int) -> set[int]:
    """Ids of the people ``person_id`` knows (both directions, two index scans)."""
    out = Relationship.objects.filter(from_person_id=person_id).values_list(
        "to_person_id", flat=True
    )
    back = Relationship.objects.filter(to_person_id=person_id).values_list(
        "from_person_id", flat=True
    )
    return set(out) | set(back)


# --- LinkedIn import --------------------------------------------------------------------


@dataclass
class ConnectionsImportResult:
    people_created: int = 0
    people_matched: int = 0
    edges_created: int = 0
    edges_existing: int = 0
    interests_added: int = 0
    job_changes: int = 0  # contacts seen at another company than the graph had
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    owner: Person | None = None  # whose connections they are, once something is imported

    @property
    def imported(self) -> int:
        return self.edges_created + self.edges_existing


@dataclass
class ConnectionRow:
    line: int
    full_name: str
    email: str
    linkedin_url: str
    company_name: str
    title: str
    connected_on: date | None
    interests: list[str] = field(default_factory=list)


def _parse_connected_on(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%d %b %Y", "%Y-%m-%d", "%m/%d/%Y", "%d %B %Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


class _Lines:
    """The lines handed to ``csv_read``, keeping those of the record being read, so a row
    can be told apart from one with missing cells (the reader fills those with "")."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._record.append(line)
        return line

    def cells_read(self) -> int:
        """How many cells the record just read had (and forget its lines)."""
        records = [cells for cells in csv.reader(self._record) if cells]
        self._record = []
        return len(records[-1]) if records else 0


def _linkedin_header(stream: IO[str]) -> tuple[str | None, int]:
    """The header line below LinkedIn's "Notes:" preamble, and how many lines came before."""
    for index in range(HEADER_SEARCH_LINES):
        line = stream.readline()
        if not line:
            break
        cells = [cell.strip().lower() for cell in next(csv.reader([line.lstrip("\ufeff")]), [])]
        if "first name" in cells and "last name" in cells:
            return line.lstrip("\ufeff"), index
    return None, 0


def parse_connections_csv(
    source: CsvSource, result: ConnectionsImportResult, *, max_rows: int | None = -1
) -> list[ConnectionRow]:
    """Rows of a LinkedIn ``Connections.csv``; bad and duplicate rows go to ``result``.

    The preamble is skipped up to the header line, and the rest is read by
    ``core.csv.csv_read`` (``max_rows`` as there: uploads and text are capped).
    """
    if max_rows == -1:
        max_rows = settings.CSV_UPLOAD_MAX_ROWS if isinstance(source, UploadedFile | str) else None
    try:
        text = csv_upload_text(source) if isinstance(source, UploadedFile) else source
    except CsvFileError as error:
        result.errors.append((0, str(error)))
        return []
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    header, skipped = _linkedin_header(stream)
    if header is None:
        result.errors.append(
            (
                0,
                _("No LinkedIn header found. Expected a line with: %(columns)s")
                % {"columns": ",".join(LINKEDIN_COLUMNS)},
            )
        )
        return []
    lines = _Lines(itertools.chain([header], stream))
    columns = [name.lower() for name in LINKEDIN_COLUMNS]
    url_validator = URLValidator(schemes=["http", "https"])
    rows: list[ConnectionRow] = []
    seen: dict[str, int] = {}
    try:
        for csv_row in csv_read(cast(IO[str], lines), columns=columns, max_rows=max_rows):
            found = lines.cells_read()
            line = skipped + csv_row.line
            if not any(csv_row.cells.values()):
                continue
            if found < len(csv_row.cells):
                result.errors.append(
                    (
                        line,
                        _("Expected %(expected)s columns, found %(found)s.")
                        % {"expected": len(csv_row.cells), "found": found},
                    )
                )
                continue

            def cell(name: str, cells: dict[str, str] = csv_row.cells) -> str:
                return cells[name.lower()]

            full_name = f"{cell('First Name')} {cell('Last Name')}".strip()
            email = cell("Email Address").lower()
            url = cell("URL")
            if not full_name:
                result.errors.append((line, _("No first or last name.")))
                continue
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    result.errors.append(
                        (line, _("“%(email)s” is not a valid email address.") % {"email": email})
                    )
                    continue
            if url:
                try:
                    url_validator(url if "://" in url else "https://" + url)
                except ValidationError:
                    result.errors.append(
                        (line, _("“%(url)s” is not a valid profile URL.") % {"url": url})
                    )
                    continue
            linkedin_url = normalize_linkedin_url(url)
            if not email and not linkedin_url:
                result.errors.append(
                    (
                        line,
                        _("%(name)s has neither an email nor a profile URL.") % {"name": full_name},
                    )
                )
                continue
            try:
                connected_on = _parse_connected_on(cell("Connected On"))
            except ValueError:
                result.errors.append(
                    (line, _("“%(value)s” is not a date.") % {"value": cell("Connected On")})
                )
                continue
            try:
                interests = interests_parse(csv_row.cells.get(INTERESTS_COLUMN, ""))
            except ValueError as error:
                result.errors.append((line, _("Interests: %(error)s") % {"error": error}))
                continue
            if len(interests) > MAX_INTERESTS:
                result.errors.append(
                    (line, _("More than %(most)s interests.") % {"most": MAX_INTERESTS})
                )
                continue
            keys = [key for key in (email, linkedin_url) if key]
            first = next((seen[key] for key in keys if key in seen), None)
            if first is not None:
                result.duplicates.append(
                    (
                        line,
                        _("%(name)s is the same person as line %(line)s.")
                        % {"name": full_name, "line": first},
                    )
                )
                continue
            for key in keys:
                seen[key] = line
            rows.append(
                ConnectionRow(
                    line=line,
                    full_name=full_name[:200],
                    email=email,
                    linkedin_url=linkedin_url[:300],
                    company_name=cell("Company")[:200],
                    title=cell("Position")[:200],
                    connected_on=connected_on,
                    interests=interests,
                )
            )
    except CsvFileError as error:
        result.errors[:] = [(skipped + error.line if error.line else 0, str(error))]
        return []
    if not rows and not result.errors and not result.duplicates:
        result.errors.append((0, _("The file has no connections below its header.")))
    return rows
