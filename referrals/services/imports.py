"""CSV imports of advocates and referrals (the management commands and the console's upload).

Every row is checked first; a bad row is reported with its line number and nothing is
imported from it. Referrals are idempotent by ``external_id``: importing a file again
updates stages through ``referral_advance`` (stale rows are ignored) instead of
duplicating, and new referrals pass the same checks as every other path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from advocates.models import Advocate, Company, User
from advocates.services import InvitationError, invitation_create
from core.cache import CONSOLE_FIGURES_VERSION_KEY, cache_version_bump
from core.csv import CsvFileError, csv_read
from core.roles import MANAGERS_GROUP, REPS_GROUP
from referrals.models import Method, Referral, ReferralStageChange, Stage
from referrals.services import ReferralError, deal_amount_check, referral_advance, referral_create

ADVOCATE_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "joined_at",
    "owner_rep_email",
)
REFERRAL_COLUMNS = (
    "external_id",
    "advocate_email",
    "referred_name",
    "referred_email",
    "referred_company",
    "method",
    "created_at",
    "stage",
    "stage_changed_at",
    "deal_amount",
)


CsvSource = UploadedFile | IO[str] | str
# Told the report so far and how many data rows have been read, every PROGRESS_EVERY rows
# and once at the end (the console's import job shows it as a progress bar).
Progress = Callable[["ImportReport", int], None]
PROGRESS_EVERY = 500


class RowError(Exception):
    pass


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: list[tuple[int, str]] = field(default_factory=list)  # imported, but a duplicate
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason): not imported

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "flagged": [{"line": n, "reason": r} for n, r in self.flagged],
            "errors": [{"line": n, "reason": r} for n, r in self.errors],
        }


def _rows(
    source: CsvSource, columns: tuple[str, ...], max_rows: int | None
) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's data rows as (line, cells); CsvFileError when the file cannot be read.

    A capped source (an upload) is read whole before the first row is handed on, so a
    file over the cap or unreadable half-way imports nothing; the command line streams.
    """
    rows = ((row.line, row.cells) for row in csv_read(source, columns=columns, max_rows=max_rows))
    return rows if max_rows is None else iter(list(rows))


def _moment(value: str, name: str, *, default: datetime | None = None) -> datetime:
    if not value:
        if default is None:
            raise RowError(f"{name} is required.")
        return default
    bad = RowError(f"{name} “{value}” is not a date (YYYY-MM-DD or ISO 8601).")
    try:
        # Both raise ValueError for a well-formed but impossible date (2026-13-01).
        parsed = parse_datetime(value)
        day = None if parsed else parse_date(value)
    except ValueError:
        raise bad from None
    if parsed is None:
        if day is None:
            raise bad
        parsed = datetime.combine(day, time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _email(value: str, name: str) -> str:
    value = value.lower()
    try:
        validate_email(value)
    except ValidationError:
        raise RowError(f"{name} “{value or '(empty)'}” is not a valid email address.") from None
    return value


# --- Advocates --------------------------------------------------------------------------


def advocates_import(
    *,
    source: CsvSource,
    invite: bool = False,
    max_rows: int | None = -1,
    progress: Progress | None = None,
) -> ImportReport:
    """Create active advocates (no email), or with ``invite`` send each an invitation.

    With ``invite`` the person joins through the invitation link like any invitee:
    title and company come from the file, the owner rep is the inviter. Every row is
    checked before anything is written. ``max_rows``: as ``core.csv.csv_read``.
    """
    report = ImportReport()
    valid: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    reps: dict[str, User] = {}
    try:
        rows = list(_rows(source, ADVOCATE_COLUMNS, max_rows))
    except CsvFileError as error:
        report.errors.append((error.line, str(error)))
        return report
    if not rows:
        report.errors.append((0, "The file has no rows."))
    for done, (line, row) in enumerate(rows):
        if progress is not None and done and done % PROGRESS_EVERY == 0:
            progress(report, done)
        try:
            email = _email(row["email"], "email")
            if email in seen:
                raise RowError(f"{email} appears more than once in the file.")
            joined_at = _moment(row["joined_at"], "joined_at", default=timezone.now())
            rep = None
            if row["owner_rep_email"]:
                rep_email = row["owner_rep_email"].lower()
                rep = (
                    reps.get(rep_email)
                    or User.objects.filter(
                        email__iexact=rep_email,
                        is_active=True,
                        groups__name__in=[REPS_GROUP, MANAGERS_GROUP],
                    ).first()
                )
                if rep is None:
                    raise RowError(f"owner_rep_email {rep_email} is not a sales rep here.")
                reps[rep_email] = rep
            if User.objects.filter(email__iexact=email).exists():
                if Advocate.objects.filter(user__email__iexact=email).exists():
                    report.unchanged += 1
                    seen.add(email)
                    continue
                raise RowError(f"{email} already has an account that is not an advocate.")
        except RowError as error:
            report.errors.append((line, str(error)))
            continue
        seen.add(email)
        valid.append((line, row | {"email": email, "joined_at": joined_at, "rep": rep}))

    with transaction.atomic():
        if valid and not invite:
            # Advocates enrolled without an invitation: the console home's cards count them.
            cache_version_bump(CONSOLE_FIGURES_VERSION_KEY)
        for line, entry in valid:
            if invite:
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
                continue
            user = User.objects.create_user(
                email=entry["email"],
                password=None,  # they set one with "forgot password" or join by invitation
                first_name=entry["first_name"][:150],
                last_name=entry["last_name"][:150],
            )
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            company = None
            if entry["company"]:
                company = Company.objects.filter(name__iexact=entry["company"]).first()
                company = company or Company.objects.create(name=entry["company"][:200])
            Advocate.objects.create(
                user=user,
                company=company,
                title=entry["title"][:200],
                industry=entry["industry"][:100],
                status=Advocate.Status.ACTIVE,
                joined_at=entry["joined_at"],
                owner_rep=entry["rep"],
            )
            report.created += 1
    if progress is not None:
        progress(report, len(rows))
    return report


# --- Referrals --------------------------------------------------------------------------


@dataclass
class _ReferralRow:
    external_id: str
    advocate: Advocate
    referred_name: str
    referred_email: str
    referred_company: str
    method: str
    created_at: datetime
    stage: str
    stage_changed_at: datetime
    deal_amount: Decimal | None


def _referral_row(row: dict, seen: set[str]) -> _ReferralRow:
    external_id = row["external_id"]
    if not external_id:
        raise RowError("external_id is required.")
    if len(external_id) > 100:
        raise RowError("external_id is longer than 100 characters.")
    if external_id in seen:
        raise RowError(f"external_id {external_id} appears more than once in the file.")
    advocate_email = _email(row["advocate_email"], "advocate_email")
    advocate = Advocate.objects.filter(user__email__iexact=advocate_email).first()
    if advocate is None:
        raise RowError(f"No advocate with the email {advocate_email}.")
    method = row["method"] or Method.LEAD_FORM
    if method not in Method.values:
        raise RowError(f"method “{method}” is not one of {', '.join(Method.values)}.")
    stage = row["stage"] or Stage.SUBMITTED
    if stage not in Stage.values or stage == Stage.REJECTED:
        pipeline = ", ".join(s for s in Stage.values if s != Stage.REJECTED)
        raise RowError(f"stage “{stage}” is not one of {pipeline}.")
    if not row["referred_name"]:
        raise RowError("referred_name is required.")
    created_at = _moment(row["created_at"], "created_at", default=timezone.now())
    changed_at = _moment(row["stage_changed_at"], "stage_changed_at", default=created_at)
    if changed_at < created_at:
        raise RowError("stage_changed_at is before created_at.")
    amount = None
    if row["deal_amount"]:
        try:
            amount = Decimal(row["deal_amount"].replace(",", ""))
        except InvalidOperation:
            raise RowError(f"deal_amount “{row['deal_amount']}” is not a number.") from None
        if not amount.is_finite() or amount < 0:
            raise RowError("deal_amount must be zero or more.")
        try:
            # Before quantize, which raises on an amount of more than 28 digits (1e40).
            deal_amount_check(amount)
        except ReferralError as error:
            raise RowError(f"deal_amount: {error}") from None
        amount = amount.quantize(Decimal("0.01"))
    return _ReferralRow(
        external_id=external_id,
        advocate=advocate,
        referred_name=row["referred_name"],
        referred_email=_email(row["referred_email"], "referred_email"),
        referred_company=row["referred_company"],
        method=method,
        created_at=created_at,
        stage=stage,
        stage_changed_at=changed_at,
        deal_amount=amount,
    )


def referrals_import(
    *, source: CsvSource, max_rows: int | None = -1, progress: Progress | None = None
) -> ImportReport:
    """Import referrals row by row. ``max_rows``: as ``core.csv.csv_read``; without a cap
    the file is streamed, and a file unreadable half-way keeps the rows before (importing
    it again after the fix changes nothing for them)."""
    report = ImportReport()
    seen: set[str] = set()
    count = 0
    try:
        for line, raw in _rows(source, REFERRAL_COLUMNS, max_rows):
            if progress is not None and count and count % PROGRESS_EVERY == 0:
                progress(report, count)
            count += 1
            try:
                row = _referral_row(raw, seen)
            except RowError as error:
                report.errors.append((line, str(error)))
                continue
            seen.add(row.external_id)
            try:
                # One savepoint per row: a row refused half-way leaves nothing behind.
                with transaction.atomic():
                    _import_referral(row, line, report)
            except ReferralError as error:
                report.errors.append((line, str(error)))
    except CsvFileError as error:
        report.errors.append((error.line, str(error)))
        return report
    if not count:
        report.errors.append((0, "The file has no rows."))
    if progress is not None:
        progress(report, count)
    return report


def _import_referral(row: _ReferralRow, line: int, report: ImportReport) -> None:
    existing = Referral.objects.filter(external_id=row.external_id).first()
    if existing is None:
        referral = referral_create(
            advocate_id=row.advocate.pk,
            method=row.method,
            referred_name=row.referred_name,
            referred_email=row.referred_email,
            referred_company=row.referred_company,
            external_id=row.external_id,
            created_at=row.created_at,
            source=ReferralStageChange.Source.IMPORT,
            # Historic rows: reps are not emailed about referrals they already work.
            notify=False,
        )
        report.created += 1
        if referral.stage == Stage.REJECTED:
            report.flagged.append(
                (line, f"{row.external_id}: duplicate of referral #{referral.duplicate_of_id}.")
            )
            return
        if row.stage != Stage.SUBMITTED or row.deal_amount is not None:
            referral_advance(
                referral_id=referral.pk,
                stage=row.stage,
                amount=row.deal_amount,
                occurred_at=row.stage_changed_at,
                source=ReferralStageChange.Source.IMPORT,
            )
        return
    if existing.advocate_id != row.advocate.pk:
        raise ReferralError(
            f"{row.external_id} belongs to another advocate; the import does not move it."
        )
    if existing.stage == Stage.REJECTED:
        report.unchanged += 1
        return
    result = referral_advance(
        referral_id=existing.pk,
        stage=row.stage,
        amount=row.deal_amount,
        occurred_at=row.stage_changed_at,
        source=ReferralStageChange.Source.IMPORT,
    )
    if result.applied:
        report.updated += 1
    else:
        report.unchanged += 1
