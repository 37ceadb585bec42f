"""Importing advocates: set-wise, a chunk of rows per transaction."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from advocates.models import Advocate, Company, User
from advocates.services import InvitationError, invitation_create
from advocates.services.matching_profiles import matching_profiles_refresh
from core import fragments
from core.bulk import bulk_insert
from core.cache import CONSOLE_FIGURES_VERSION_KEY, cache_version_bump
from core.roles import MANAGERS_GROUP, REPS_GROUP
from referrals.services.imports.common import (
    ADVOCATE_COLUMNS,
    CsvSource,
    ImportReport,
    Progress,
    Row,
    RowError,
    chunks_import,
    email,
    moment,
)


def advocates_import(
    *,
    source: CsvSource,
    invite: bool = False,
    max_rows: int | None = -1,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
) -> ImportReport:
    """Create active advocates (no email), or with ``invite`` send each an invitation.

    With ``invite`` the person joins through the invitation link like any invitee:
    title and company come from the file, the owner rep is the inviter. The rows of a
    chunk are all checked before the chunk is written. ``max_rows``: as
    ``core.csv.csv_read``; ``progress``: called after each chunk (see ``Progress``).
    """
    seen: set[str] = set()  # the file's emails so far: a repeated one is a bad row
    reps: dict[str, User] = {}

    def import_chunk(chunk: list[Row]) -> ImportReport:
        try:
            part, new_seen = _chunk_import(chunk, seen, reps, invite=invite)
        except IntegrityError:
            # Someone signed up with one of the chunk's emails between its lookups
            # and its writes: read them again (that row is now "not an advocate").
            part, new_seen = _chunk_import(chunk, seen, reps, invite=invite)
        seen.update(new_seen)
        return part

    return chunks_import(
        source,
        ADVOCATE_COLUMNS,
        import_chunk,
        max_rows=max_rows,
        chunk_rows=chunk_rows,
        progress=progress,
    )


def _chunk_import(
    chunk: list[Row], seen: set[str], reps: dict[str, User], *, invite: bool
) -> tuple[ImportReport, set[str]]:
    report = ImportReport()
    new_seen: set[str] = set()
    rep_emails = {row["owner_rep_email"].lower() for _, row in chunk} - set(reps) - {""}
    if rep_emails:
        reps.update(
            (user.email_lower, user)
            for user in User.objects.annotate(email_lower=Lower("email"))
            .filter(
                email_lower__in=rep_emails,
                is_active=True,
                groups__name__in=[REPS_GROUP, MANAGERS_GROUP],
            )
            .distinct()
        )
    # Each email's account, and whether it is an advocate's, in one query.
    accounts = dict(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in={row["email"].lower() for _, row in chunk})
        .values_list("email_lower", "advocate__id")
    )
    valid: list[tuple[int, dict[str, Any]]] = []
    for line, row in chunk:
        try:
            address = email(row["email"], "email")
            if address in seen or address in new_seen:
                raise RowError(
                    gettext("%(email)s appears more than once in the file.") % {"email": address}
                )
            joined_at = moment(row["joined_at"], "joined_at", default=timezone.now())
            rep = None
            if row["owner_rep_email"]:
                rep_email = row["owner_rep_email"].lower()
                rep = reps.get(rep_email)
                if rep is None:
                    raise RowError(
                        gettext("owner_rep_email %(email)s is not a sales rep here.")
                        % {"email": rep_email}
                    )
            if address in accounts:
                if accounts[address] is not None:
                    report.unchanged += 1
                    new_seen.add(address)
                    continue
                raise RowError(
                    gettext("%(email)s already has an account that is not an advocate.")
                    % {"email": address}
                )
        except RowError as error:
            report.errors.append((line, str(error)))
            continue
        new_seen.add(address)
        valid.append((line, row | {"email": address, "joined_at": joined_at, "rep": rep}))
    with transaction.atomic():
        if invite:
            _invite(valid, report)
        elif valid:
            _create(valid)
            report.created += len(valid)
            # Advocates enrolled without an invitation: the console home's cards count them.
            cache_version_bump(CONSOLE_FIGURES_VERSION_KEY)
            # Written set-wise: no model signal drops the console lists' versions.
            fragments.scopes_changed(fragments.Scope.PEOPLE)
    return report, new_seen


def _invite(valid: list[tuple[int, dict[str, Any]]], report: ImportReport) -> None:
    # One invitation (and one email) per person: nothing to gain from doing it set-wise.
    for line, entry in valid:
        try:
            invitation_create(
                email=entry["email"],
                invited_by=entry["rep"],
                first_name=entry["first_name"],
                last_name=entry["last_name"],
                company_name=entry["company"],
                title=entry["title"],
            )
        except InvitationError as error:
            report.errors.append((line, str(error)))
            continue
        report.created += 1


def _create(valid: list[tuple[int, dict[str, Any]]]) -> None:
    names = {entry["company"].lower(): entry["company"] for _, entry in reversed(valid)}
    names.pop("", None)
    companies: dict[str, Company] = {}
    # As a lookup by name__iexact ... .first() under Company's ordering: the first by name.
    for company in (
        Company.objects.annotate(name_lower=Lower("name"))
        .filter(name_lower__in=names)
        .order_by("-name", "-pk")
    ):
        companies[company.name_lower] = company
    missing = [key for key in names if key not in companies]
    created = bulk_insert(Company, [Company(name=names[key][:200]) for key in missing])
    companies.update(zip(missing, created, strict=True))
    users = []
    for _, entry in valid:
        user = User(
            email=entry["email"],
            first_name=entry["first_name"][:150],
            last_name=entry["last_name"][:150],
        )
        # They set one with "forgot password" or join by invitation.
        user.set_unusable_password()
        users.append(user)
    users = bulk_insert(User, users)
    bulk_insert(
        EmailAddress,
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users],
    )
    advocates = bulk_insert(
        Advocate,
        [
            Advocate(
                user=user,
                company=companies.get(entry["company"].lower()) if entry["company"] else None,
                title=entry["title"][:200],
                industry=entry["industry"][:100],
                status=Advocate.Status.ACTIVE,
                joined_at=entry["joined_at"],
                owner_rep=entry["rep"],
            )
            for user, (_, entry) in zip(users, valid, strict=True)
        ],
    )
    # Set-wise, as the rows came: matching reads those who take calls.
    matching_profiles_refresh(advocate_ids=[advocate.pk for advocate in advocates])
