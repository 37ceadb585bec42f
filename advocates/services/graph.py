"""Writes to the relationship graph: people (merged by email, else LinkedIn URL), who
knows whom, their interests, and a LinkedIn export imported for one owner (which also
notices contacts who changed company: ``JobChange``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from advocates.graph import (
    MAX_INTERESTS,
    ConnectionRow,
    ConnectionsImportResult,
    CsvSource,
    find_person,
    normalize_linkedin_url,
    parse_connections_csv,
    same_company,
)
from advocates.models import Advocate, JobChange, Person, PersonInterest, Relationship, User
from core.audit import audit_record
from core.outbox import enqueue_after_commit

CHUNK = 500
# console.tasks.job_change_notify: tells the reps of open requests and referrals at
# either company. Named, not imported: the console is floors above.
JOB_CHANGE_TASK = "console.tasks.job_change_notify"


class GraphError(Exception):
    """A refused graph change; the message is shown to the user as it is."""


# --- People -----------------------------------------------------------------------------


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
        raise GraphError(_("A person needs a name, an email or a LinkedIn URL."))
    person = find_person(email=email, linkedin_url=linkedin_url)
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
            person = find_person(email=email, linkedin_url=linkedin_url)
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


# --- Interests --------------------------------------------------------------------------


def person_interests_set(*, person: Person, names: list[str], by: User | None = None) -> None:
    """Make ``names`` (already parsed: ``advocates.graph.interests_parse``) the person's
    interests: the others are removed, new ones added, kept ones left as they were."""
    if len(names) > MAX_INTERESTS:
        raise GraphError(_("A person can have up to %(most)s interests.") % {"most": MAX_INTERESTS})
    wanted = {name.lower(): name for name in names}
    with transaction.atomic():
        # The person's row lock orders two editors saving the same person at once.
        Person.objects.select_for_update().filter(pk=person.pk).first()
        current = {i.name.lower(): i for i in PersonInterest.objects.filter(person=person)}
        stale = [i.pk for key, i in current.items() if key not in wanted]
        if stale:
            PersonInterest.objects.filter(pk__in=stale).delete()
        PersonInterest.objects.bulk_create(
            [PersonInterest(person=person, name=n) for k, n in wanted.items() if k not in current]
        )
        if by is not None:
            audit_record(
                actor=by,
                action="graph.person_interests",
                target=person,
                detail={"interests": sorted(wanted.values())},
            )


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
        raise GraphError(_("A person cannot be connected to themselves."))
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


# --- LinkedIn import --------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _interest_count(person_ids: list[int]) -> int:
    return sum(
        PersonInterest.objects.filter(person_id__in=chunk).count() for chunk in _chunks(person_ids)
    )


def _job_change(person: Person, row: ConnectionRow, by: User | None) -> bool:
    """Record that ``person`` now works at ``row``'s company, if it is another one.

    The person's company moves in a conditional update on the company it had: of two
    imports of the same file at once, only the one whose update matched records the
    move, and a later import of the same file sees no change at all.
    """
    old, new = person.company_name.strip(), row.company_name.strip()
    if not old or not new or same_company(old, new):
        return False
    moved = Person.objects.filter(pk=person.pk, company_name=person.company_name).update(
        company_name=new, title=row.title or person.title
    )
    if not moved:
        return False
    person.company_name, person.title = new, row.title or person.title
    change = JobChange.objects.create(
        person=person, from_company=old, to_company=new, detected_by=by
    )
    enqueue_after_commit(JOB_CHANGE_TASK, change.pk)
    return True


def connections_import(
    *,
    owner: Person | User,
    source: CsvSource,
    created_by: User | None = None,
    max_rows: int | None = -1,
) -> ConnectionsImportResult:
    """Import the owner's LinkedIn connections: people merged, edges owner -> contact.

    Bad rows are reported with their line and nothing is written for them; the good
    rows go in one transaction, so a failure part-way leaves nothing half-imported.
    Lookups are batched (a few queries per 500 rows), so a long export is fine. A user
    as the owner is their graph node, made only once there is something to import: a
    refused file writes nothing at all.
    """
    result = ConnectionsImportResult()
    rows = parse_connections_csv(source, result, max_rows=max_rows)
    if not rows:
        return result
    with transaction.atomic():
        if isinstance(owner, User):
            owner = person_for_user(owner)
        result.owner = owner
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

        people: list[tuple[ConnectionRow, Person]] = []
        to_create: list[tuple[ConnectionRow, Person]] = []
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
                if _job_change(person, row, created_by):
                    result.job_changes += 1
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
                    person.pk = find_person(email=person.email, linkedin_url=person.linkedin_url).pk

        interests = [
            PersonInterest(person_id=person.pk, name=name)
            for row, person in people
            for name in row.interests
        ]
        if interests:
            touched = sorted({i.person_id for i in interests})
            before = _interest_count(touched)
            # Added to what the person had: a file never removes an interest a rep typed.
            PersonInterest.objects.bulk_create(interests, ignore_conflicts=True, batch_size=CHUNK)
            result.interests_added = _interest_count(touched) - before

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
