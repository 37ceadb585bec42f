"""Importing referrals: set-wise, a chunk of rows per transaction (see the package doc)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from advocates.models import Advocate
from core import events, fragments
from core.bulk import bulk_insert
from core.models import ProgramSettings
from core.outbox import activities_after_commit
from referrals.kpis import kpis_changed
from referrals.models import (
    OPEN_STAGES,
    QUALIFIED_OR_LATER,
    Method,
    Referral,
    ReferralReward,
    ReferralStageChange,
    RejectionReason,
    RewardRule,
    Stage,
)
from referrals.services import (
    DUPLICATE_WINDOW,
    NO_ACTIVE_ADVOCATE,
    ReferralError,
    creation_lock,
    deal_amount_check,
    email_domain,
    referral_advance,
    referral_event_data,
    self_referral_check,
)
from referrals.services.figures import referral_figures_refresh
from referrals.services.imports.common import (
    REFERRAL_COLUMNS,
    CsvSource,
    ImportReport,
    Progress,
    Row,
    RowError,
    chunks_import,
    email,
    moment,
)
from referrals.services.rewards import qualified_key, qualified_reason, won_key, won_reason
from referrals.services.summary import referral_counts_refresh
from rewards.services.ledger import Award, points_award_many

IMPORT = ReferralStageChange.Source.IMPORT
METHODS = frozenset(Method.values)
ROW_STAGES = frozenset(Stage.values) - {Stage.REJECTED}  # an import cannot reject


@dataclass(frozen=True)
class _Advocate:
    pk: int
    active: bool
    email: str
    company_domain: str
    owner_rep_id: int | None  # the owner rep if still active: where a referral is routed


@dataclass
class _ReferralRow:
    external_id: str
    advocate: _Advocate
    referred_name: str
    referred_email: str
    referred_company: str
    method: str
    created_at: datetime
    stage: str
    stage_changed_at: datetime
    deal_amount: Decimal | None


def referrals_import(
    *,
    source: CsvSource,
    max_rows: int | None = -1,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
) -> ImportReport:
    """Import referrals a chunk at a time. ``max_rows``: as ``core.csv.csv_read``; without
    a cap the file is streamed, and a file unreadable half-way keeps the chunks before
    (importing it again after the fix changes nothing for them). ``progress``: called
    after each chunk (see ``Progress``)."""
    seen: set[str] = set()  # the file's external ids so far: a repeated one is a bad row
    touched: set[int] = set()  # advocates whose progress to refresh at the end

    def import_chunk(chunk: list[Row]) -> ImportReport:
        with transaction.atomic():
            return _chunk_import(chunk, seen, touched)

    report = chunks_import(
        source,
        REFERRAL_COLUMNS,
        import_chunk,
        max_rows=max_rows,
        chunk_rows=chunk_rows,
        progress=progress,
    )
    # Once per advocate for the whole file, not per row: levels, badges and the AMS.
    activities_after_commit(advocate_ids=touched)
    return report


def _advocates(emails: set[str]) -> dict[str, _Advocate]:
    rows = (
        Advocate.objects.annotate(email_lower=Lower("user__email"))
        .filter(email_lower__in=emails)
        .values_list(
            "pk", "status", "email_lower", "company__domain", "owner_rep_id", "owner_rep__is_active"
        )
    )
    return {
        address: _Advocate(
            pk=pk,
            active=status == Advocate.Status.ACTIVE,
            email=address,
            company_domain=domain or "",
            owner_rep_id=rep_id if rep_active else None,
        )
        for pk, status, address, domain, rep_id, rep_active in rows
    }


def _referral_row(
    row: dict[str, str],
    seen: set[str],
    advocates: dict[str, _Advocate],
    program: ProgramSettings,
) -> _ReferralRow:
    external_id = row["external_id"]
    if not external_id:
        raise RowError(gettext("external_id is required."))
    if len(external_id) > 100:
        raise RowError(gettext("external_id is longer than 100 characters."))
    if external_id in seen:
        raise RowError(
            gettext("external_id %(id)s appears more than once in the file.") % {"id": external_id}
        )
    advocate_email = email(row["advocate_email"], "advocate_email")
    advocate = advocates.get(advocate_email)
    if advocate is None:
        raise RowError(gettext("No advocate with the email %(email)s.") % {"email": advocate_email})
    method = row["method"] or Method.LEAD_FORM
    if method not in METHODS:
        raise RowError(
            gettext("method “%(method)s” is not one of %(methods)s.")
            % {"method": method, "methods": ", ".join(Method.values)}
        )
    stage = row["stage"] or Stage.SUBMITTED
    if stage not in ROW_STAGES:
        pipeline = ", ".join(s for s in Stage.values if s != Stage.REJECTED)
        raise RowError(
            gettext("stage “%(stage)s” is not one of %(stages)s.")
            % {"stage": stage, "stages": pipeline}
        )
    if not row["referred_name"]:
        raise RowError(gettext("referred_name is required."))
    created_at = moment(row["created_at"], "created_at", default=timezone.now())
    changed_at = moment(row["stage_changed_at"], "stage_changed_at", default=created_at)
    if changed_at < created_at:
        raise RowError(gettext("stage_changed_at is before created_at."))
    amount = None
    if row["deal_amount"]:
        try:
            amount = Decimal(row["deal_amount"].replace(",", ""))
        except InvalidOperation:
            raise RowError(
                gettext("deal_amount “%(amount)s” is not a number.")
                % {"amount": row["deal_amount"]}
            ) from None
        try:
            # The one rule of every path (not a number, negative, above the maximum), and
            # before quantize, which raises on an amount of more than 28 digits (1e40).
            deal_amount_check(amount, limit=program.max_deal_amount)
        except ReferralError as error:
            raise RowError(gettext("deal_amount: %(error)s") % {"error": error}) from None
        amount = amount.quantize(Decimal("0.01"))
    return _ReferralRow(
        external_id=external_id,
        advocate=advocate,
        referred_name=row["referred_name"],
        referred_email=email(row["referred_email"], "referred_email"),
        referred_company=row["referred_company"],
        method=method,
        created_at=created_at,
        stage=stage,
        stage_changed_at=changed_at,
        deal_amount=amount,
    )


# A referral whose stage an earlier row of the chunk moved: (that row's line, the stage
# before, the stage after). A new row further down sees the stage after, as it would have
# row by row; the duplicate rule's "open" depends on it.
Moved = dict[int, tuple[int, str, str]]


def _chunk_import(chunk: list[Row], seen: set[str], touched: set[int]) -> ImportReport:
    report = ImportReport()
    creation_lock(exclusive=True)
    program = ProgramSettings.load()  # its limits, read once for the chunk
    advocates = _advocates({row["advocate_email"].lower() for _, row in chunk})
    rows: list[tuple[int, _ReferralRow]] = []
    for line, raw in chunk:
        try:
            row = _referral_row(raw, seen, advocates, program)
        except RowError as error:
            report.errors.append((line, str(error)))
            continue
        seen.add(row.external_id)
        rows.append((line, row))
    existing = {
        values["external_id"]: values
        # external_id <> '' spelled out: PostgreSQL cannot prove it from a list of over
        # 100 ids, and without it the partial unique index is not used (a full scan).
        for values in Referral.objects.filter(external_id__in=[row.external_id for _, row in rows])
        .exclude(external_id="")
        .values("pk", "external_id", "advocate_id", "stage", "stage_changed_at", "deal_amount")
    }
    moved: Moved = {}
    new: list[tuple[int, _ReferralRow]] = []
    for line, row in rows:
        if row.external_id in existing:
            _update(line, row, existing[row.external_id], report, moved, touched)
        else:
            new.append((line, row))
    if new:
        _create(new, report, moved, touched, program)
    return report


def _update(
    line: int,
    row: _ReferralRow,
    current: Mapping[str, Any],
    report: ImportReport,
    moved: Moved,
    touched: set[int],
) -> None:
    """A row already imported: the stage update semantics of ``referral_advance``.

    What would not change anything (stale, same stage and amount, rejected) is decided
    here from the chunk's one lookup, so importing a file again calls no service.
    """
    if current["advocate_id"] != row.advocate.pk:
        report.errors.append(
            (
                line,
                gettext("%(id)s belongs to another advocate; the import does not move it.")
                % {"id": row.external_id},
            )
        )
        return
    same = row.stage == current["stage"] and row.deal_amount in (None, current["deal_amount"])
    if (
        current["stage"] == Stage.REJECTED
        or row.stage_changed_at < current["stage_changed_at"]
        or same
    ):
        report.unchanged += 1
        return
    try:
        with transaction.atomic():
            result = referral_advance(
                referral_id=current["pk"],
                stage=row.stage,
                amount=row.deal_amount,
                occurred_at=row.stage_changed_at,
                source=IMPORT,
                refresh_activity=False,
            )
    except ReferralError as error:
        report.errors.append((line, str(error)))
        return
    if not result.applied:
        report.unchanged += 1
        return
    report.updated += 1
    if row.stage != current["stage"]:
        moved[current["pk"]] = (line, current["stage"], row.stage)
    if Stage.WON in (row.stage, current["stage"]):
        touched.add(row.advocate.pk)


@dataclass
class _Candidate:
    """A referral a new row may duplicate: in the database, or made by an earlier row."""

    created_at: datetime
    order: tuple[int, int]  # (0, pk) in the database, then (1, n) for the chunk's n-th
    stage: str
    pk: int | None = None
    referral: Referral | None = None

    def stage_for(self, line: int, moved: Moved) -> str:
        change = moved.get(self.pk) if self.pk is not None else None
        if change is None:
            return self.stage
        moved_at, before, after = change
        return after if moved_at < line else before


class _Candidates:
    """Every referral the chunk's new rows may be duplicates of, by email and by domain."""

    def __init__(self, accepted: list[tuple[int, _ReferralRow, str]], moved: Moved) -> None:
        self.by_email: dict[str, list[_Candidate]] = defaultdict(list)
        self.by_domain: dict[str, list[_Candidate]] = defaultdict(list)
        emails = {row.referred_email for _, row, _ in accepted}
        domains = {domain for _, _, domain in accepted if domain}
        match = Q(referred_email__in=emails)
        if domains:
            # Open now, or moved by this chunk (a row above a new one may have reopened it).
            match |= Q(referred_domain__in=domains) & (Q(stage__in=OPEN_STAGES) | Q(pk__in=moved))
        rows = (
            Referral.objects.filter(
                match,
                created_at__gte=min(row.created_at for _, row, _ in accepted) - DUPLICATE_WINDOW,
                created_at__lte=max(row.created_at for _, row, _ in accepted),
            )
            .exclude(stage=Stage.REJECTED)
            .values_list("pk", "referred_email", "referred_domain", "stage", "created_at")
        )
        for pk, address, domain, stage, created_at in rows:
            self.add(_Candidate(created_at, (0, pk), stage, pk=pk), address, domain)

    def add(self, candidate: _Candidate, address: str, domain: str) -> None:
        self.by_email[address].append(candidate)
        if domain:
            self.by_domain[domain].append(candidate)

    def first(self, row: _ReferralRow, domain: str, line: int, moved: Moved) -> _Candidate | None:
        """As ``referrals.services._first_duplicate``: the earliest referral of the same
        email, or an open one of the same company domain, within the 180 days before."""
        since = row.created_at - DUPLICATE_WINDOW
        found = [
            c
            for c in self.by_email.get(row.referred_email, ())
            if since <= c.created_at <= row.created_at
        ]
        if domain:
            found += [
                c
                for c in self.by_domain.get(domain, ())
                if since <= c.created_at <= row.created_at
                and c.stage_for(line, moved) in OPEN_STAGES
            ]
        return min(found, key=lambda c: (c.created_at, c.order), default=None)


def _create(
    new: list[tuple[int, _ReferralRow]],
    report: ImportReport,
    moved: Moved,
    touched: set[int],
    program: ProgramSettings,
) -> None:
    """New referrals: ``referral_create``'s checks, then stage and rewards, all set-wise.

    The daily limit is not applied: it is an anti-fraud brake on advocates submitting
    live, and a manager's file of historic referrals may hold many a day for one person.
    """
    accepted: list[tuple[int, _ReferralRow, str]] = []
    for line, row in new:
        try:
            if not row.advocate.active:
                raise ReferralError(NO_ACTIVE_ADVOCATE)
            self_referral_check(
                own_email=row.advocate.email,
                company_domain=row.advocate.company_domain,
                referred_email=row.referred_email,
            )
        except ReferralError as error:
            report.errors.append((line, str(error)))
            continue
        accepted.append((line, row, email_domain(row.referred_email)))
    if not accepted:
        return
    candidates = _Candidates(accepted, moved)
    made: list[tuple[int, _ReferralRow, Referral, _Candidate | None]] = []
    for n, (line, row, domain) in enumerate(accepted):
        first = candidates.first(row, domain, line, moved)
        referral = _referral(row, domain, duplicate=first is not None)
        made.append((line, row, referral, first))
        if first is None:
            candidate = _Candidate(row.created_at, (1, n), row.stage, referral=referral)
            candidates.add(candidate, row.referred_email, domain)
    # The originals first: a duplicate links to one, perhaps made by this chunk.
    bulk_insert(Referral, [referral for _, _, referral, first in made if first is None])
    for _, _, referral, first in made:
        if first is not None:
            referral.duplicate_of_id = first.pk if first.referral is None else first.referral.pk
    bulk_insert(Referral, [referral for _, _, referral, first in made if first is not None])
    report.created += len(made)
    changes = []
    for line, row, referral, first in made:
        changes.append(
            ReferralStageChange(
                referral=referral,
                from_stage="",
                to_stage=Stage.REJECTED if first else Stage.SUBMITTED,
                occurred_at=row.created_at,
                source=IMPORT,
            )
        )
        if first is not None:
            report.flagged.append(
                (
                    line,
                    gettext("%(id)s: duplicate of referral #%(first)s.")
                    % {"id": row.external_id, "first": referral.duplicate_of_id},
                )
            )
        elif row.stage != Stage.SUBMITTED:
            changes.append(
                ReferralStageChange(
                    referral=referral,
                    from_stage=Stage.SUBMITTED,
                    to_stage=row.stage,
                    occurred_at=row.stage_changed_at,
                    source=IMPORT,
                    deal_amount=referral.deal_amount,
                )
            )
    bulk_insert(ReferralStageChange, changes)
    _emit(made, changes)
    originals = [referral for _, _, referral, first in made if first is None]
    _pay(originals, limit=program.max_points_per_event)
    # An import cannot reject (ROW_STAGES): every original counts, no duplicate does.
    referral_counts_refresh(advocate_ids={referral.advocate_id for referral in originals})
    touched.update(referral.advocate_id for referral in originals)
    # Written set-wise: no model signal drops the tracker pages' versions.
    fragments.advocates_changed(referral.advocate_id for _, _, referral, _ in made)
    fragments.scopes_changed(fragments.Scope.REFERRALS)  # the reps' pipelines
    kpis_changed()
    # Set-wise, their days and advocates once for the chunk (the rejected ones too).
    referral_figures_refresh(referral_ids=[referral.pk for _, _, referral, _ in made])


def _emit(
    made: list[tuple[int, _ReferralRow, Referral, _Candidate | None]],
    changes: list[ReferralStageChange],
) -> None:
    # Set-wise, as referral_create and referral_advance would have emitted them one by one.
    # Generators: emit_many builds no payload when no endpoint receives the type.
    emails = {referral.pk: row.advocate.email for _, row, referral, _ in made}
    events.emit_many(
        "referral.created",
        (
            {**referral_event_data(c.referral, c), "advocate_email": emails[c.referral.pk]}
            for c in changes
            if not c.from_stage
        ),
    )
    events.emit_many(
        "referral.stage_changed",
        (referral_event_data(c.referral, c) for c in changes if c.from_stage),
    )


def _referral(row: _ReferralRow, domain: str, *, duplicate: bool) -> Referral:
    """The referral as ``referral_create`` then ``referral_advance`` would leave it."""
    stage = Stage.REJECTED if duplicate else row.stage
    # A row still "submitted" keeps its creation as its latest change, as advancing to
    # the same stage with only an amount does.
    advanced = stage not in (Stage.SUBMITTED, Stage.REJECTED)
    return Referral(
        advocate_id=row.advocate.pk,
        method=row.method,
        referred_name=row.referred_name[:200],
        referred_email=row.referred_email,
        referred_company=row.referred_company[:200],
        referred_domain=domain,
        stage=stage,
        rejection_reason=RejectionReason.DUPLICATE if duplicate else "",
        owner_rep_id=row.advocate.owner_rep_id,
        external_id=row.external_id,
        created_at=row.created_at,
        stage_changed_at=row.stage_changed_at if advanced else row.created_at,
        won_at=row.stage_changed_at if stage == Stage.WON else None,
        deal_amount=None if duplicate else row.deal_amount,
    )


def _pay(referrals: list[Referral], *, limit: int) -> None:
    """The rewards of referrals that arrive qualified or won: ``pay_qualified`` and
    ``pay_won``'s first round (referrals.services.rewards), with their idempotency keys
    and the rule's points (within the program's maximum per event), through the ledger
    at once."""
    rule = RewardRule.objects.filter(is_active=True).first()
    if rule is None:
        return
    awards: list[tuple[Referral, str, Award]] = []
    qualified_points = rule.qualified_reward_points()
    # The reasons are lazy: the ledger writes each in its advocate's language, set-wise.
    for referral in referrals:
        if referral.stage in QUALIFIED_OR_LATER and qualified_points > 0:
            award = Award(
                advocate_id=referral.advocate_id,
                amount=qualified_points,
                reason=qualified_reason(referral),
                idempotency_key=qualified_key(referral.pk),
                source=referral,
            )
            awards.append((referral, ReferralReward.Kind.QUALIFIED, award))
        won = referral.stage == Stage.WON
        points = rule.won_points(referral.deal_amount, limit=limit) if won else 0
        if points > 0:
            award = Award(
                advocate_id=referral.advocate_id,
                amount=points,
                reason=won_reason(referral),
                idempotency_key=won_key(referral.pk, 1),
                source=referral,
            )
            awards.append((referral, ReferralReward.Kind.WON, award))
    results = points_award_many(awards=[award for _, _, award in awards])
    bulk_insert(
        ReferralReward,
        [
            ReferralReward(
                referral=referral,
                kind=kind,
                round=1,
                points=result.entry.amount,
                ledger_entry=result.entry,
            )
            for (referral, kind, _), result in zip(awards, results, strict=True)
            if result.created
        ],
    )
