"""The points ledger: the only code that changes an advocate's points.

Every function locks the advocate's row (``select_for_update``) inside a transaction,
so concurrent awards and spends for one advocate run one after another, and the
balance kept on the advocate always equals the sum of its ledger entries. Each entry
carries an idempotency key; calling again with the same key returns the first entry
and changes nothing (a retried task, a double click, a replayed webhook).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.models import Advocate, Invitation
from core import events, fragments
from core.bulk import bulk_insert
from core.i18n import number, written_in
from core.models import ProgramSettings
from rewards.models import LedgerEntry, PeriodPoints

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

POINTS_EVENT = "points.changed"


class LedgerError(Exception):
    """A ledger change that was refused; the message is fit to show the user."""


class InsufficientPoints(LedgerError):
    pass


class AwardTooLarge(LedgerError):
    """An award above the program's maximum points per event (core.ProgramSettings)."""


@dataclass(frozen=True)
class LedgerResult:
    entry: LedgerEntry
    created: bool


def _source_fields(source: models.Model | None) -> dict[str, str]:
    if source is None:
        return {"source_type": "", "source_id": ""}
    return {"source_type": source._meta.label_lower, "source_id": str(source.pk)}


def _languages(advocate_ids: Iterable[int]) -> dict[int, str]:
    """Each advocate's saved language (blank: the site's), in one query."""
    return dict(Advocate.objects.filter(pk__in=advocate_ids).values_list("pk", "user__language"))


def _line(reason: StrOrPromise, language: str | None) -> str:
    """A points line as stored: a reason given lazily (``core.i18n.lazy_text``) is
    written in the language of the advocate who reads it."""
    return written_in(reason, language)[:255]


def _apply(
    *,
    advocate_id: int,
    amount: int,
    kind: str,
    reason: StrOrPromise,
    idempotency_key: str,
    source: models.Model | None = None,
    source_fields: dict[str, str] | None = None,
    reverses: LedgerEntry | None = None,
    counts_toward_lifetime: bool,
) -> LedgerResult:
    if amount == 0:
        raise LedgerError("A ledger entry must change the balance.")
    if not idempotency_key:
        raise LedgerError("A ledger entry needs an idempotency key.")
    try:
        with transaction.atomic():
            # The lock serialises every change for this advocate, so the check of the
            # key and of the balance below cannot race with another change.
            advocate = (
                Advocate.objects.select_for_update().only("id", "balance").get(pk=advocate_id)
            )
            existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _replayed(existing, advocate_id=advocate_id, kind=kind)
            language = (
                _languages([advocate_id]).get(advocate_id) if isinstance(reason, Promise) else None
            )
            if reverses is not None and LedgerEntry.objects.filter(reverses=reverses).exists():
                # Checked under the lock: a second reversal under another key would
                # otherwise hit the one-to-one constraint as a bare IntegrityError.
                raise LedgerError("This entry has already been reversed.")
            if advocate.balance + amount < 0:
                raise InsufficientPoints(
                    _("Not enough points: this needs %(needed)s and the balance is %(balance)s.")
                    % {"needed": number(-amount), "balance": number(advocate.balance)}
                )
            entry = LedgerEntry.objects.create(
                advocate_id=advocate_id,
                amount=amount,
                kind=kind,
                reason=_line(reason, language),
                idempotency_key=idempotency_key,
                reverses=reverses,
                **(source_fields or _source_fields(source)),
            )
            lifetime_delta = amount if counts_toward_lifetime else 0
            Advocate.objects.filter(pk=advocate_id).update(
                balance=F("balance") + amount,
                lifetime_points=F("lifetime_points") + lifetime_delta,
                updated_at=timezone.now(),  # .update() skips auto_now; the API reads it
            )
            if lifetime_delta:
                # A reversal takes the points out of the period that earned them.
                earned_at = reverses.created_at if reverses is not None else entry.created_at
                _add_period_points(advocate_id, lifetime_delta, earned_at)
            events.emit(
                POINTS_EVENT,
                {
                    "advocate": advocate_id,
                    "amount": amount,
                    "balance": advocate.balance + amount,
                    "kind": kind,
                    "reason": entry.reason,
                    "entries": [entry.pk],
                },
            )
            return LedgerResult(entry=entry, created=True)
    except IntegrityError:
        # Two callers with one key on an advocate row that did not exist to lock yet,
        # or a reversal of an entry already reversed: the first write wins.
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replayed(existing, advocate_id=advocate_id, kind=kind)


def _replayed(existing: LedgerEntry, *, advocate_id: int, kind: str) -> LedgerResult:
    # A key names one event. Reusing it for another advocate or another kind of change
    # is a caller bug that would otherwise lose points silently. A different amount is
    # a replay whose inputs changed meanwhile (a rule edited between retries): the
    # first write wins, as the idempotency contract promises.
    if (existing.advocate_id, existing.kind) != (advocate_id, kind):
        raise LedgerError(
            f"The idempotency key {existing.idempotency_key!r} was already used for a "
            "different ledger entry."
        )
    return LedgerResult(entry=existing, created=False)


def period_starts(moment: datetime) -> dict[str, date]:
    """The first day of the ISO week (Monday) and of the month holding ``moment`` (UTC)."""
    day = moment.astimezone(UTC).date()
    return {
        PeriodPoints.Period.WEEK: day - timedelta(days=day.weekday()),
        PeriodPoints.Period.MONTH: day.replace(day=1),
    }


def _add_period_points(advocate_id: int, amount: int, moment: datetime) -> None:
    # Runs under the advocate's row lock, so get-or-create cannot race for this advocate.
    for period, starts_on in period_starts(moment).items():
        updated = PeriodPoints.objects.filter(
            advocate_id=advocate_id, period=period, starts_on=starts_on
        ).update(points=F("points") + amount)
        if not updated:
            PeriodPoints.objects.create(
                advocate_id=advocate_id, period=period, starts_on=starts_on, points=amount
            )


def points_award(
    *,
    advocate_id: int,
    amount: int,
    reason: StrOrPromise,
    idempotency_key: str,
    source: models.Model | None = None,
) -> LedgerResult:
    """Give points (they count toward lifetime points and levels).

    Refused (AwardTooLarge) above the program's maximum points per event, whatever
    asks: a challenge, a reference call, a referral, a manager. Keeps every points
    column far from the 32-bit limit (see core.models).
    """
    if amount <= 0:
        raise LedgerError("An award must be a positive number of points.")
    _award_limit_check([amount])
    return _apply(
        advocate_id=advocate_id,
        amount=amount,
        kind=LedgerEntry.Kind.AWARD,
        reason=reason,
        idempotency_key=idempotency_key,
        source=source,
        counts_toward_lifetime=True,
    )


def _award_limit_check(amounts: Iterable[int]) -> None:
    """Refuse (AwardTooLarge) the first amount above the program's maximum per event."""
    limit = ProgramSettings.load().max_points_per_event
    too_large = next((amount for amount in amounts if amount > limit), None)
    if too_large is not None:
        raise AwardTooLarge(
            _(
                "An award of %(points)s points is above the program's maximum of %(limit)s "
                "points per event (a manager can change it in the program settings)."
            )
            % {"points": number(too_large), "limit": number(limit)}
        )


@dataclass(frozen=True)
class Award:
    """One award of ``points_award_many``: the same fields as ``points_award``."""

    advocate_id: int
    amount: int
    reason: StrOrPromise
    idempotency_key: str
    source: models.Model | None = None


# Advocates per UPDATE of points_award_many: well under SQLite's 32,766 parameters.
_UPDATE_BATCH = 500


def points_award_many(*, awards: Sequence[Award]) -> list[LedgerResult]:
    """``points_award`` for many awards at once (a bulk import), in one transaction.

    The same contract: each key pays once (a key already in the ledger is a replay and
    changes nothing), balance, lifetime points and period points move with the entries,
    and an award above the program's maximum points per event refuses the whole batch.
    The advocates' rows are locked in id order, so two batches, or a batch and a single
    award, wait for each other instead of deadlocking; the entries are written with one
    bulk insert and each advocate's totals with one statement per few hundred advocates,
    not one per award. Results come back in the order of ``awards``.
    """
    if not awards:
        return []
    keys = [award.idempotency_key for award in awards]
    if any(award.amount <= 0 for award in awards):
        raise LedgerError("An award must be a positive number of points.")
    if not all(keys):
        raise LedgerError("A ledger entry needs an idempotency key.")
    if len(set(keys)) != len(keys):
        raise LedgerError("Each award in a batch needs its own idempotency key.")
    _award_limit_check([award.amount for award in awards])
    advocate_ids = sorted({award.advocate_id for award in awards})
    with transaction.atomic():
        locked = list(
            Advocate.objects.select_for_update()
            .filter(pk__in=advocate_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(locked) != len(advocate_ids):
            raise LedgerError("An award names an advocate that does not exist.")
        existing = {
            entry.idempotency_key: entry
            for entry in LedgerEntry.objects.filter(idempotency_key__in=keys)
        }
        now = timezone.now()
        lazy_readers = {a.advocate_id for a in awards if isinstance(a.reason, Promise)}
        languages = _languages(lazy_readers) if lazy_readers else {}
        new = [
            LedgerEntry(
                advocate_id=award.advocate_id,
                amount=award.amount,
                kind=LedgerEntry.Kind.AWARD,
                reason=_line(award.reason, languages.get(award.advocate_id)),
                idempotency_key=award.idempotency_key,
                created_at=now,
                **_source_fields(award.source),
            )
            for award in awards
            if award.idempotency_key not in existing
        ]
        created = {entry.idempotency_key: entry for entry in bulk_insert(LedgerEntry, new)}
        totals: dict[int, int] = defaultdict(int)
        for entry in created.values():
            totals[entry.advocate_id] += entry.amount
        _add_points_many(totals, now)
        _emit_many(created.values())
        if totals:  # written set-wise: no model signal drops their pages' versions
            fragments.advocates_changed(totals)
            fragments.scopes_changed(fragments.Scope.POINTS)
        return [
            LedgerResult(entry=created[award.idempotency_key], created=True)
            if award.idempotency_key in created
            else _replayed(
                existing[award.idempotency_key],
                advocate_id=award.advocate_id,
                kind=LedgerEntry.Kind.AWARD,
            )
            for award in awards
        ]


def _emit_many(entries: Iterable[LedgerEntry]) -> None:
    # One event per advocate of the batch (its total and entries), not one per entry.
    if not events.wanted(POINTS_EVENT):
        return
    by_advocate: dict[int, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        by_advocate[entry.advocate_id].append(entry)
    balances = dict(Advocate.objects.filter(pk__in=by_advocate).values_list("pk", "balance"))
    events.emit_many(
        POINTS_EVENT,
        [
            {
                "advocate": advocate_id,
                "amount": sum(entry.amount for entry in rows),
                "balance": balances[advocate_id],
                "kind": LedgerEntry.Kind.AWARD.value,
                "reason": rows[0].reason if len(rows) == 1 else f"{len(rows)} awards",
                "entries": [entry.pk for entry in rows],
            }
            for advocate_id, rows in sorted(by_advocate.items())
        ],
    )


def _add_points_many(totals: dict[int, int], moment: datetime) -> None:
    # Runs under the advocates' row locks (as _add_period_points), so the period rows
    # read here cannot be created meanwhile by another award to the same advocates.
    items = sorted(totals.items())
    for start in range(0, len(items), _UPDATE_BATCH):
        batch = dict(items[start : start + _UPDATE_BATCH])
        _add_from_values(
            Advocate, "id", ("balance", "lifetime_points"), batch, touch=timezone.now()
        )
        for period, starts_on in period_starts(moment).items():
            rows = PeriodPoints.objects.filter(
                advocate_id__in=batch, period=period, starts_on=starts_on
            )
            have = set(rows.values_list("advocate_id", flat=True))
            _add_from_values(
                PeriodPoints,
                "advocate_id",
                ("points",),
                {pk: batch[pk] for pk in have},
                where={
                    "period": period,
                    "starts_on": str(connection.ops.adapt_datefield_value(starts_on)),
                },
            )
            bulk_insert(
                PeriodPoints,
                [
                    PeriodPoints(advocate_id=pk, period=period, starts_on=starts_on, points=amount)
                    for pk, amount in batch.items()
                    if pk not in have
                ],
            )


def _add_from_values(
    model: type[models.Model],
    key: str,
    columns: tuple[str, ...],
    amounts: dict[int, int],
    where: dict[str, str] | None = None,
    touch: datetime | None = None,
) -> None:
    """``column += amount`` for each row whose ``key`` is in ``amounts``, in one UPDATE;
    with ``touch``, ``updated_at`` is set to it too (raw SQL skips auto_now).

    ``UPDATE ... FROM (VALUES ...)`` (PostgreSQL, SQLite >= 3.33): a CASE of hundreds of
    branches costs Django more to build than the database to run.
    """
    if not amounts:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    sets = ", ".join(f"{quote(c)} = {table}.{quote(c)} + v.column2" for c in columns)
    stamp: list[str | None] = []
    if touch is not None:
        sets += f", {quote('updated_at')} = %s"
        stamp = [connection.ops.adapt_datetimefield_value(touch)]
    values = ", ".join(["(%s, %s)"] * len(amounts))
    conditions = "".join(f" AND {table}.{quote(name)} = %s" for name in where or {})
    params: list[int | str] = [value for pair in amounts.items() for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v"  # noqa: S608  # names quoted, values bound
            f" WHERE {table}.{quote(key)} = v.column1{conditions}",
            [*stamp, *params, *(where or {}).values()],
        )


def points_spend(
    *,
    advocate_id: int,
    amount: int,
    reason: StrOrPromise,
    idempotency_key: str,
    source: models.Model | None = None,
) -> LedgerResult:
    """Take points, refusing with InsufficientPoints if the balance is too low."""
    if amount <= 0:
        raise LedgerError("A spend must be a positive number of points.")
    return _apply(
        advocate_id=advocate_id,
        amount=-amount,
        kind=LedgerEntry.Kind.SPEND,
        reason=reason,
        idempotency_key=idempotency_key,
        source=source,
        counts_toward_lifetime=False,
    )


def points_reverse(
    *, entry_id: int, reason: StrOrPromise, idempotency_key: str | None = None
) -> LedgerResult:
    """Cancel an entry with a visible entry of the opposite amount.

    Reversing a spend is a refund. Reversing an award also takes the points out of
    lifetime points; it is refused (InsufficientPoints) if the advocate has already
    spent them, leaving the caller to decide what is owed.
    """
    entry = LedgerEntry.objects.get(pk=entry_id)
    if entry.kind == LedgerEntry.Kind.REVERSAL or entry.kind == LedgerEntry.Kind.REFUND:
        raise LedgerError("A reversal cannot itself be reversed; make a new entry instead.")
    kind = LedgerEntry.Kind.REFUND if entry.amount < 0 else LedgerEntry.Kind.REVERSAL
    return _apply(
        advocate_id=entry.advocate_id,
        amount=-entry.amount,
        kind=kind,
        reason=reason,
        idempotency_key=idempotency_key or f"reverse:{entry.idempotency_key}",
        reverses=entry,
        source_fields={"source_type": entry.source_type, "source_id": entry.source_id},
        counts_toward_lifetime=entry.kind == LedgerEntry.Kind.AWARD,
    )


def welcome_points_award(*, advocate_id: int, invitation_id: int) -> LedgerResult | None:
    """``WELCOME_POINTS`` for a member who joined by ``invitation_id``, once."""
    if settings.WELCOME_POINTS <= 0:
        return None
    return points_award(
        advocate_id=advocate_id,
        amount=settings.WELCOME_POINTS,
        reason=gettext_lazy("Welcome to the community"),
        idempotency_key=f"welcome:{advocate_id}",
        source=Invitation.objects.filter(pk=invitation_id).first(),
    )
