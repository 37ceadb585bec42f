"""The relationship graph: people, who knows whom, and importing LinkedIn connections.

People are merged by email (case-insensitive), else by LinkedIn URL, so the same human
imported by two owners, or added by hand and later imported, is one Person.
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
from django.db import IntegrityError, transaction
from django.db.models import Q

from advocates.models import Advocate, Person, Relationship, User
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
# LinkedIn puts a few "Notes:" lines above the header; look this far for it.
HEADER_SEARCH_LINES = 20
CHUNK = 500
CsvSource = UploadedFile | IO[str] | str


class GraphError(Exception):
    """A refused graph change; the message is shown to the user as it is."""


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


def _find_person(*, email: str, linkedin_url: str) -> Person | None:
    if email:
        person = Person.objects.filter(email__iexact=email).first()
        if person is not None:
            return person
    if linkedin_url:
        return Person.objects.filter(linkedin_url=linkedin_url).first()
    return None


def person_get_or_create(
    *,
    full_name: str,
    email: str = "",
    linkedin_url: str = "",
    company_name: str = "",
    title: str = "",
    kind: str = Person.Kind.CONTACT,
) -> Person:
    """The person with this email (else LinkedIn URL), created if new; blanks are filled."""
    email = email.strip().lower()
    linkedin_url = normalize_linkedin_url(linkedin_url)
    if not email and not linkedin_url and not full_name.strip():
        raise GraphError("A person needs a name, an email or a LinkedIn URL.")
    person = _find_person(email=email, linkedin_url=linkedin_url)
    if person is None:
        try:
            with transaction.atomic():
                return Person.objects.create(
                    full_name=full_name.strip() or email or linkedin_url,
                    email=email,
                    linkedin_url=linkedin_url,
                    company_name=company_name.strip(),
                    title=title.strip(),
                    kind=kind,
                )
        except IntegrityError:
            # Created by someone else a moment ago: theirs is the person.
            person = _find_person(email=email, linkedin_url=linkedin_url)
            if person is None:
                raise
    changed = _fill_blanks(
        person,
        email=email,
        linkedin_url=linkedin_url,
        company_name=company_name.strip(),
        title=title.strip(),
    )
    if changed:
        try:
            with transaction.atomic():
                person.save(update_fields=changed)
        except IntegrityError:
            pass  # the email or URL belongs to another person: keep this one as it was
    return person


def _fill_blanks(person: Person, **values: str) -> list[str]:
    changed = []
    for name, value in values.items():
        if value and not getattr(person, name):
            setattr(person, name, value)
            changed.append(name)
    return changed


def person_for_advocate(advocate: Advocate) -> Person:
    """The advocate's node in the graph (linked to the advocate, merged by email)."""
    person = Person.objects.filter(advocate=advocate).first()
    if person is not None:
        return person
    user = advocate.user
    person = person_get_or_create(
        full_name=user.get_full_name() or user.email,
        email=user.email,
        linkedin_url=advocate.linkedin_url,
        company_name=advocate.company.name if advocate.company else "",
        title=advocate.title,
        kind=Person.Kind.ADVOCATE,
    )
    Person.objects.filter(pk=person.pk, advocate__isnull=True).update(
        advocate=advocate, kind=Person.Kind.ADVOCATE
    )
    person.refresh_from_db()
    return person


def person_for_user(user: User) -> Person:
    """A signed-in user's node: their advocate profile's, else an employee's."""
    advocate = Advocate.objects.filter(user=user).select_related("user", "company").first()
    if advocate is not None:
        return person_for_advocate(advocate)
    person = Person.objects.filter(user=user).first()
    if person is not None:
        return person
    person = person_get_or_create(
        full_name=user.get_full_name() or user.email, email=user.email, kind=Person.Kind.EMPLOYEE
    )
    Person.objects.filter(pk=person.pk, user__isnull=True).update(user=user)
    person.refresh_from_db()
    return person


def person_for_email(email: str) -> Person | None:
    """An existing person, advocate or user with this email (their node made if needed)."""
    email = email.strip().lower()
    person = Person.objects.filter(email__iexact=email).first()
    if person is not None:
        return person
    user = User.objects.filter(email__iexact=email).first()
    return person_for_user(user) if user is not None else None


# --- Edges ------------------------------------------------------------------------------


def relationship_add(
    *,
    from_person: Person,
    to_person: Person,
    source: str = Relationship.Source.MANUAL,
    created_by: User | None = None,
    note: str = "",
    connected_on: date | None = None,
) -> tuple[Relationship, bool]:
    """Record that two people know each other; an existing edge (either way) is kept."""
    if from_person.pk == to_person.pk:
        raise GraphError("A person cannot be connected to themselves.")
    existing = Relationship.objects.filter(
        Q(from_person=from_person, to_person=to_person)
        | Q(from_person=to_person, to_person=from_person)
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            edge = Relationship.objects.create(
                from_person=from_person,
                to_person=to_person,
                source=source,
                created_by=created_by,
                note=note.strip()[:200],
                connected_on=connected_on,
            )
    except IntegrityError:
        return Relationship.objects.get(from_person=from_person, to_person=to_person), False
    return edge, True


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
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, why)

    @property
    def imported(self) -> int:
        return self.edges_created + self.edges_existing


@dataclass
class _Row:
    line: int
    full_name: str
    email: str
    linkedin_url: str
    company_name: str
    title: str
    connected_on: date | None


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
) -> list[_Row]:
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
                "No LinkedIn header found. Expected a line with: " + ",".join(LINKEDIN_COLUMNS),
            )
        )
        return []
    lines = _Lines(itertools.chain([header], stream))
    columns = [name.lower() for name in LINKEDIN_COLUMNS]
    url_validator = URLValidator(schemes=["http", "https"])
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    try:
        for csv_row in csv_read(cast(IO[str], lines), columns=columns, max_rows=max_rows):
            found = lines.cells_read()
            line = skipped + csv_row.line
            if not any(csv_row.cells.values()):
                continue
            if found < len(csv_row.cells):
                result.errors.append(
                    (line, f"Expected {len(csv_row.cells)} columns, found {found}.")
                )
                continue

            def cell(name: str, cells: dict[str, str] = csv_row.cells) -> str:
                return cells[name.lower()]

            full_name = f"{cell('First Name')} {cell('Last Name')}".strip()
            email = cell("Email Address").lower()
            url = cell("URL")
            if not full_name:
                result.errors.append((line, "No first or last name."))
                continue
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    result.errors.append((line, f"“{email}” is not a valid email address."))
                    continue
            if url:
                try:
                    url_validator(url if "://" in url else "https://" + url)
                except ValidationError:
                    result.errors.append((line, f"“{url}” is not a valid profile URL."))
                    continue
            linkedin_url = normalize_linkedin_url(url)
            if not email and not linkedin_url:
                result.errors.append((line, f"{full_name} has neither an email nor a profile URL."))
                continue
            try:
                connected_on = _parse_connected_on(cell("Connected On"))
            except ValueError:
                result.errors.append((line, f"“{cell('Connected On')}” is not a date."))
                continue
            keys = [key for key in (email, linkedin_url) if key]
            first = next((seen[key] for key in keys if key in seen), None)
            if first is not None:
                result.duplicates.append((line, f"{full_name} is the same person as line {first}."))
                continue
            for key in keys:
                seen[key] = line
            rows.append(
                _Row(
                    line=line,
                    full_name=full_name[:200],
                    email=email,
                    linkedin_url=linkedin_url[:300],
                    company_name=cell("Company")[:200],
                    title=cell("Position")[:200],
                    connected_on=connected_on,
                )
            )
    except CsvFileError as error:
        result.errors[:] = [(skipped + error.line if error.line else 0, str(error))]
        return []
    if not rows and not result.errors and not result.duplicates:
        result.errors.append((0, "The file has no connections below its header."))
    return rows


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def connections_import(
    *,
    owner: Person,
    source: CsvSource,
    created_by: User | None = None,
    max_rows: int | None = -1,
) -> ConnectionsImportResult:
    """Import the owner's LinkedIn connections: people merged, edges owner -> contact.

    Bad rows are reported with their line and nothing is written for them; the good
    rows go in one transaction, so a failure part-way leaves nothing half-imported.
    Lookups are batched (a few queries per 500 rows), so a long export is fine.
    """
    result = ConnectionsImportResult()
    rows = parse_connections_csv(source, result, max_rows=max_rows)
    if not rows:
        return result
    with transaction.atomic():
        by_email: dict[str, Person] = {}
        by_url: dict[str, Person] = {}
        emails = [row.email for row in rows if row.email]
        urls = [row.linkedin_url for row in rows if row.linkedin_url]
        for chunk in _chunks(emails):
            for found in Person.objects.filter(email__in=chunk):
                by_email[found.email.lower()] = found
        for chunk in _chunks(urls):
            for found in Person.objects.filter(linkedin_url__in=chunk):
                by_url[found.linkedin_url] = found

        people: list[tuple[_Row, Person]] = []
        to_create: list[tuple[_Row, Person]] = []
        for row in rows:
            person = (by_email.get(row.email) if row.email else None) or (
                by_url.get(row.linkedin_url) if row.linkedin_url else None
            )
            if person is None:
                person = Person(
                    full_name=row.full_name,
                    email=row.email,
                    linkedin_url=row.linkedin_url,
                    company_name=row.company_name,
                    title=row.title,
                    kind=Person.Kind.CONTACT,
                )
                to_create.append((row, person))
                # Later rows merge into this one (e.g. same URL, second email).
                if row.email:
                    by_email[row.email] = person
                if row.linkedin_url:
                    by_url[row.linkedin_url] = person
            else:
                result.people_matched += 1
                changed = _fill_blanks(
                    person,
                    email=row.email if row.email not in by_email else "",
                    linkedin_url=row.linkedin_url if row.linkedin_url not in by_url else "",
                    company_name=row.company_name,
                    title=row.title,
                )
                if changed:
                    person.save(update_fields=changed)
            people.append((row, person))
        if to_create:
            Person.objects.bulk_create([person for _row, person in to_create])
            result.people_created = len(to_create)
            if to_create[0][1].pk is None:  # backends that return no ids on bulk insert
                for _row, person in to_create:
                    person.pk = _find_person(
                        email=person.email, linkedin_url=person.linkedin_url
                    ).pk

        ids = {person.pk for _row, person in people if person.pk != owner.pk}
        known: set[int] = set()
        for chunk in _chunks(sorted(ids)):
            known |= set(
                Relationship.objects.filter(from_person=owner, to_person_id__in=chunk).values_list(
                    "to_person_id", flat=True
                )
            )
            known |= set(
                Relationship.objects.filter(to_person=owner, from_person_id__in=chunk).values_list(
                    "from_person_id", flat=True
                )
            )
        edges = []
        for row, person in people:
            if person.pk == owner.pk:
                result.errors.append((row.line, "This is the owner of the file."))
                continue
            if person.pk in known:
                result.edges_existing += 1
                continue
            known.add(person.pk)
            edges.append(
                Relationship(
                    from_person=owner,
                    to_person_id=person.pk,
                    source=Relationship.Source.LINKEDIN,
                    connected_on=row.connected_on,
                    created_by=created_by,
                )
            )
        Relationship.objects.bulk_create(edges, batch_size=CHUNK)
        result.edges_created = len(edges)
    return result
