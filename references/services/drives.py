"""Reference drives: open requests offered to advocates, who pick the prospect they want
to talk to (or pass), and the industry weights managers set for matching.

A pick is an ask the advocate has already accepted: it goes through ``ask_reserve`` (the
burnout guard, one call in flight per request) and ``ask_answer`` (the introduction to
the prospect with the rep in copy), in one transaction, so a pick that cannot be
accepted leaves nothing behind.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Advocate, User
from core import fragments
from core.audit import audit_record
from references.models import (
    Ask,
    DrivePass,
    IndustryWeights,
    ReferenceDrive,
    ReferenceRequest,
    ScoringWeights,
)
from references.services.asks import ask_answer, ask_reserve
from references.services.base import ReferenceError

DRIVE_STATUSES = ReferenceRequest.DRIVE_STATUSES
MAX_WEIGHT = 1000


def drive_create(
    *, by: User, name: str, requests: list[ReferenceRequest], see_all: bool
) -> ReferenceDrive:
    """Offer these requests to advocates. A rep offers their own requests, a manager any."""
    name = name.strip()
    if not name:
        raise ReferenceError(_("Name the drive."))
    if not requests:
        raise ReferenceError(_("Pick at least one open request to offer."))
    for request in requests:
        if not see_all and request.rep_id != by.pk:
            raise ReferenceError(_("You can offer only your own requests."))
        if request.status not in DRIVE_STATUSES:
            raise ReferenceError(
                _(
                    "%(request)s is “%(status)s”: only requests still matching or waiting for "
                    "you can be offered."
                )
                % {"request": request, "status": request.get_status_display()}
            )
    with transaction.atomic():
        drive = ReferenceDrive.objects.create(name=name[:200], created_by=by)
        drive.requests.set(requests)
        audit_record(
            actor=by,
            action="reference.drive_create",
            target=drive,
            detail={"requests": [request.pk for request in requests]},
        )
    return drive


def drive_close(*, drive: ReferenceDrive, by: User) -> ReferenceDrive:
    """Stop offering the drive's requests (they stay as they are)."""
    closed = ReferenceDrive.objects.filter(pk=drive.pk, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if not closed:
        raise ReferenceError(_("This drive is already closed."))
    fragments.scopes_changed(fragments.Scope.CAMPAIGNS)
    audit_record(actor=by, action="reference.drive_close", target=drive, detail={})
    drive.refresh_from_db()
    return drive


def _in_an_open_drive() -> Exists:
    """A request some open drive offers. A subquery, not a join: ``drives__closed_at__
    isnull=True`` would also match a request in no drive (the outer join's empty side),
    and PostgreSQL cannot lock a row through that outer join."""
    return Exists(ReferenceDrive.objects.filter(requests=OuterRef("pk"), closed_at__isnull=True))


def drive_pick(*, advocate: Advocate, request_id: int) -> Ask:
    """The advocate picks a request a drive offers: they are asked for it, and agree."""
    with transaction.atomic():
        # The request's row lock first, then the advocate's (ask_reserve): the fixed order.
        request = (
            ReferenceRequest.objects.select_for_update()
            .filter(_in_an_open_drive(), pk=request_id)
            .first()
        )
        if request is None:
            raise ReferenceError(_("This request is no longer offered."))
        if request.status not in DRIVE_STATUSES:
            raise ReferenceError(
                _("Another advocate took this request a moment ago: pick another one.")
            )
        ask = ask_reserve(request=request, advocate_id=advocate.pk)
        ask = ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
        audit_record(
            actor=advocate.user,
            action="reference.drive_pick",
            target=request,
            detail={"ask": ask.pk},
        )
    return ask


def drive_pass(*, advocate: Advocate, request_ids: list[int]) -> int:
    """The advocate passes on these suggestions: none of them is suggested to them again.
    They stay open for other advocates."""
    offered = set(
        ReferenceRequest.objects.filter(_in_an_open_drive(), pk__in=request_ids).values_list(
            "pk", flat=True
        )
    )
    if not offered:
        raise ReferenceError(_("There is nothing to pass on."))
    with transaction.atomic():
        created = DrivePass.objects.bulk_create(
            [DrivePass(advocate=advocate, request_id=pk) for pk in sorted(offered)],
            ignore_conflicts=True,
        )
        fragments.advocates_changed([advocate.pk])
    return len(created)


# --- Industry weights -------------------------------------------------------------------


def _weights_check(values: dict[str, int]) -> None:
    for name in ScoringWeights.SCORING_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        label = IndustryWeights._meta.get_field(name).verbose_name  # type: ignore[union-attr]
        if value < 0:
            raise ReferenceError(
                _("Weights cannot be negative (%(label)s: %(value)s).")
                % {"label": label, "value": value}
            )
        if value > MAX_WEIGHT:
            raise ReferenceError(
                _("Use a weight from 0 to 1,000 (%(label)s: %(value)s).")
                % {"label": label, "value": value}
            )


def industry_weights_save(
    *, by: User, for_industry: str, weights: IndustryWeights | None = None, **values: int
) -> IndustryWeights:
    """Add (``weights`` None) or change an industry's set of scoring weights."""
    industry = " ".join(for_industry.split())
    if not industry:
        raise ReferenceError(_("Name the industry."))
    _weights_check(values)
    clash = IndustryWeights.objects.filter(for_industry__iexact=industry)
    if weights is not None:
        clash = clash.exclude(pk=weights.pk)
    if clash.exists():
        raise ReferenceError(
            _("The industry “%(industry)s” already has its own weights.") % {"industry": industry}
        )
    with transaction.atomic():
        if weights is None:
            weights = IndustryWeights()
        else:
            weights = IndustryWeights.objects.select_for_update().get(pk=weights.pk)
        weights.for_industry = industry[:100]
        for name, value in values.items():
            if name in ScoringWeights.SCORING_FIELDS:
                setattr(weights, name, value)
        weights.updated_by = by
        try:
            with transaction.atomic():
                weights.save()
        except IntegrityError:
            # Two managers adding the same industry at once: the constraint decides.
            raise ReferenceError(
                _("The industry “%(industry)s” already has its own weights.")
                % {"industry": industry}
            ) from None
        audit_record(
            actor=by,
            action="reference.industry_weights",
            target=weights,
            detail={"industry": industry, **{n: getattr(weights, n) for n in values}},
        )
    return weights


def industry_weights_delete(*, by: User, weights: IndustryWeights) -> None:
    """Remove an industry's set: its requests are matched with the program's weights."""
    with transaction.atomic():
        audit_record(
            actor=by,
            action="reference.industry_weights_delete",
            target=weights,
            detail={"industry": weights.for_industry},
        )
        weights.delete()
