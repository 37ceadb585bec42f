"""Writes for referrals: creating one (every path), moving its stage, paying its reward.

``referral_create`` is the only way a referral is made (hub forms, the public landing
page, a rep's verbal referral, the CSV import, the CRM API), so the fraud checks hold
on every path. ``referral_advance`` is the only way its stage changes (reps, the CRM,
the import), so every change is timestamped and the reward follows the stage.

Duplicate policy: a referral of an email already referred within 180 days, or of a
company domain with an *open* referral within 180 days, is created as ``rejected``
(reason ``duplicate``) and linked to the first one. It is kept rather than refused so
the advocate sees what happened to it and the rep sees the attempt; it never counts in
KPIs and never earns points. Self-referral (the advocate's own address, or their own
company's domain) and the daily limit are refused: nothing is created.

The CSV import creates referrals set-wise (``referrals.services.imports``) with the same
policy and the same messages (``self_referral_check``, ``NO_ACTIVE_ADVOCATE``,
``DUPLICATE_WINDOW``); while an import chunk writes, ``referral_create`` waits for it
(``creation_lock``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from advocates.models import Advocate, User
from core import events, fragments
from core.audit import audit_record
from core.models import ProgramSettings
from core.outbox import activity_after_commit, enqueue_after_commit
from core.roles import MANAGERS_GROUP, REPS_GROUP
from referrals.kpis import kpis_changed
from referrals.models import (
    OPEN_STAGES,
    QUALIFIED_OR_LATER,
    Method,
    Referral,
    ReferralMessage,
    ReferralStageChange,
    RejectionReason,
    RewardRule,
    Stage,
)
from referrals.services.figures import referral_figures_refresh

# Re-exported: the links are written in their own module.
from referrals.services.links import referral_link_for as referral_link_for
from referrals.services.links import referral_link_visit as referral_link_visit
from referrals.services.rewards import (
    money,
    pay_qualified,
    pay_second_generation,
    pay_won,
    reverse_won,
    won_amount_changed,
)
from referrals.services.summary import referral_counts_refresh

logger = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=180)
# Free mail providers: two people at gmail.com are not one company.
FREE_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.com",
    }
)


NO_ACTIVE_ADVOCATE = gettext_lazy("This referral link belongs to no active advocate.")


class ReferralError(Exception):
    """A referral refused; the message is shown to whoever made it, as it is."""


class SelfReferral(ReferralError):
    pass


class DailyLimitReached(ReferralError):
    pass


def deal_amount_check(amount: Decimal | None, *, limit: Decimal | None = None) -> None:
    """Refuse (ReferralError, with the message to show) a deal amount that is not a
    number, is negative, or is above the program's maximum deal amount.

    Every path that takes a deal amount calls it before writing anything: the rep's
    stage form, the CRM API, the CSV import, and ``referral_advance`` itself. ``limit``:
    that maximum, when the caller has read it already (the import checks every row).
    """
    if amount is None:
        return
    if not amount.is_finite():
        raise ReferralError(gettext("The deal amount must be a number."))
    if amount < 0:
        raise ReferralError(gettext("The deal amount cannot be negative."))
    if limit is None:
        limit = ProgramSettings.load().max_deal_amount
    if amount > limit:
        raise ReferralError(
            gettext(
                "The deal amount %(amount)s is above the program's maximum deal amount of "
                "%(limit)s: check it, or ask a manager to raise the limit in the program "
                "settings."
            )
            % {"amount": money(amount), "limit": money(limit)}
        )


# --- Creating ---------------------------------------------------------------------------


def email_domain(email: str) -> str:
    """The company domain of an address (Referral.referred_domain); "" for a free mailbox."""
    domain = email.rsplit("@", 1)[-1].lower()
    return "" if domain in FREE_EMAIL_DOMAINS else domain


def _same_company(domain: str, company_domain: str) -> bool:
    company_domain = company_domain.strip().lower()
    return bool(domain and company_domain) and (
        domain == company_domain or domain.endswith("." + company_domain)
    )


# One key for "referrals are being created": every referral_create holds it shared (they
# run side by side), an import chunk holds it exclusive, so the chunk's duplicate checks
# see every referral made before it and none is made while it writes.
_CREATION_LOCK_KEY = "referral:creation"


def creation_lock(*, exclusive: bool) -> None:
    """Take the creation lock (PostgreSQL, until the transaction ends; see above).

    Taken first in the transaction, before any row lock, so a creator waiting for it
    holds nothing that the import chunk could be waiting for.
    """
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtext(%s))", [_CREATION_LOCK_KEY])


def self_referral_check(*, own_email: str, company_domain: str, referred_email: str) -> None:
    """Raise SelfReferral if ``referred_email`` is the advocate or at their own company."""
    own_email = own_email.lower()
    if referred_email == own_email:
        raise SelfReferral(gettext("You cannot refer yourself."))
    domain = email_domain(referred_email)
    if _same_company(domain, company_domain) or (domain and domain == email_domain(own_email)):
        raise SelfReferral(
            gettext("Referrals must be for another company: this address is at your own company.")
        )


def _lock_duplicate_keys(email: str, domain: str) -> None:
    """Serialise referrals of one email or one company domain, across advocates.

    Two advocates referring the same person at the same moment would otherwise both
    see "no earlier referral" and both be created as submitted. PostgreSQL transaction
    advisory locks (released at commit) close that window; keys are taken in a fixed
    order so two referrals never wait on each other. SQLite serialises writers anyway.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({f"email:{email}", *([f"domain:{domain}"] if domain else [])})
    with connection.cursor() as cursor:
        for key in keys:
            # hashtext() maps the key to the int4 the lock function takes; a collision
            # only makes two unrelated referrals wait for each other briefly.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"referral:{key}"])


def _first_duplicate(*, email: str, domain: str, created_at: datetime) -> Referral | None:
    since = created_at - DUPLICATE_WINDOW
    match = Q(referred_email=email)
    if domain:
        match |= Q(referred_domain=domain, stage__in=OPEN_STAGES)
    return (
        Referral.objects.filter(match, created_at__gte=since, created_at__lte=created_at)
        .exclude(stage=Stage.REJECTED)
        .order_by("created_at", "id")
        .first()
    )


def referral_create(
    *,
    advocate_id: int,
    method: str,
    referred_name: str,
    referred_email: str,
    referred_company: str = "",
    referred_title: str = "",
    note: str = "",
    created_by: User | None = None,
    external_id: str = "",
    created_at: datetime | None = None,
    source: str = ReferralStageChange.Source.SYSTEM,
    notify: bool = True,
) -> Referral:
    """Record a referral made by ``advocate_id``, after the checks; route it to a rep.

    Raises ReferralError (nothing created) for self-referral, the daily limit, an
    unknown or inactive advocate, bad input, or an ``external_id`` already used.
    A duplicate is created as rejected and linked to the first (see the module doc).
    """
    if method not in Method.values:
        raise ReferralError(gettext("Unknown referral method “%(method)s”.") % {"method": method})
    referred_email = referred_email.strip().lower()
    referred_name = referred_name.strip()
    try:
        validate_email(referred_email)
    except ValidationError:
        raise ReferralError(
            gettext("“%(email)s” is not a valid email address.")
            % {"email": referred_email or gettext("(empty)")}
        ) from None
    if not referred_name:
        raise ReferralError(gettext("The referred person's name is required."))
    external_id = external_id.strip()
    domain = email_domain(referred_email)

    with transaction.atomic():
        creation_lock(exclusive=False)
        # The advocate's row lock serialises this advocate's referrals, so the daily
        # limit cannot be overrun by parallel submissions.
        advocate = (
            Advocate.objects.select_for_update(of=("self",))
            .select_related("user", "company", "owner_rep")
            .filter(pk=advocate_id)
            .first()
        )
        if advocate is None or advocate.status != Advocate.Status.ACTIVE:
            raise ReferralError(NO_ACTIVE_ADVOCATE)
        self_referral_check(
            own_email=advocate.user.email,
            company_domain=advocate.company.domain if advocate.company else "",
            referred_email=referred_email,
        )
        _lock_duplicate_keys(referred_email, domain)
        # "Now" is read after the locks: a referral that waited for another one must
        # not look older than it, or the duplicate check below would miss it.
        created_at = created_at or timezone.now()
        day_start = created_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        today = Referral.objects.filter(
            advocate_id=advocate.pk,
            created_at__gte=day_start,
            created_at__lt=day_start + timedelta(days=1),
        ).count()
        if today >= settings.REFERRAL_DAILY_LIMIT:
            raise DailyLimitReached(
                gettext(
                    "The limit of %(limit)s referrals a day is reached. Please try again tomorrow."
                )
                % {"limit": settings.REFERRAL_DAILY_LIMIT}
            )
        if external_id and Referral.objects.filter(external_id=external_id).exists():
            raise ReferralError(
                gettext("A referral with external id “%(id)s” already exists.")
                % {"id": external_id}
            )

        first = _first_duplicate(email=referred_email, domain=domain, created_at=created_at)
        owner = advocate.owner_rep if advocate.owner_rep and advocate.owner_rep.is_active else None
        try:
            with transaction.atomic():
                referral = Referral.objects.create(
                    advocate=advocate,
                    method=method,
                    referred_name=referred_name[:200],
                    referred_email=referred_email,
                    referred_company=referred_company.strip()[:200],
                    referred_title=referred_title.strip()[:200],
                    note=note.strip()[:2000],
                    referred_domain=domain,
                    stage=Stage.REJECTED if first else Stage.SUBMITTED,
                    rejection_reason=RejectionReason.DUPLICATE if first else "",
                    duplicate_of=first,
                    owner_rep=owner,
                    created_by=created_by,
                    external_id=external_id,
                    created_at=created_at,
                    stage_changed_at=created_at,
                )
        except IntegrityError:
            raise ReferralError(
                gettext("A referral with external id “%(id)s” already exists.")
                % {"id": external_id}
            ) from None
        kpis_changed()
        referral_figures_refresh(referral_ids=[referral.pk])
        change = ReferralStageChange.objects.create(
            referral=referral,
            from_stage="",
            to_stage=referral.stage,
            occurred_at=created_at,
            actor=created_by,
            source=source,
        )
        if notify and referral.stage == Stage.SUBMITTED:
            _on_commit_notify_new(referral.pk)
        if referral.stage == Stage.SUBMITTED:
            referral_counts_refresh(advocate_ids=[advocate.pk])  # its row is locked above
            # A referral made: badges, the AMS and last_active_at catch up in a worker.
            activity_after_commit(advocate_id=advocate.pk)
        events.emit(
            "referral.created",
            {**referral_event_data(referral, change), "advocate_email": advocate.user.email},
        )
    return referral


def referral_event_data(referral: Referral, change: ReferralStageChange) -> dict[str, object]:
    # The referred person's name and email stay in Vouch: a receiver that needs them
    # reads the referral through an authorised channel.
    return {
        "referral": referral.pk,
        "external_id": referral.external_id,
        "advocate": referral.advocate_id,
        "method": referral.method,
        "referred_company": referral.referred_company,
        "owner_rep": referral.owner_rep_id,
        "stage": change.to_stage,
        "previous_stage": change.from_stage,
        "deal_amount": None if change.deal_amount is None else f"{change.deal_amount:.2f}",
        "source": change.source,
        "occurred_at": change.occurred_at.isoformat(),
    }


def referral_email_create(
    *,
    advocate_id: int,
    referred_name: str,
    referred_email: str,
    referred_company: str = "",
    subject: str,
    body: str,
    created_by: User | None = None,
) -> Referral:
    """The hub's "send an email" method: the referral, then the advocate's email (Celery)."""
    with transaction.atomic():
        referral = referral_create(
            advocate_id=advocate_id,
            method=Method.EMAIL,
            referred_name=referred_name,
            referred_email=referred_email,
            referred_company=referred_company,
            created_by=created_by,
        )
        if referral.stage == Stage.REJECTED:
            # A duplicate: the colleague was referred already; do not email them again.
            return referral
        message = ReferralMessage.objects.create(
            referral=referral, subject=subject.strip()[:200], body=body.strip()[:5000]
        )
        enqueue_after_commit("referrals.tasks.referral_message_send", message.pk)
    return referral


def referral_assign(*, referral_id: int, rep: User, actor: User) -> Referral:
    """A manager routes a referral (usually from the unassigned queue) to a rep."""
    if not rep.is_active or not rep.groups.filter(name__in=[REPS_GROUP, MANAGERS_GROUP]).exists():
        raise ReferralError(gettext("Referrals can only be assigned to a sales rep."))
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        if referral.owner_rep_id == rep.pk:
            return referral
        referral.owner_rep = rep
        referral.save(update_fields=["owner_rep", "updated_at"])
        logger.info("Referral %s assigned to %s by %s", referral.pk, rep.pk, actor.pk)
        audit_record(
            actor=actor, action="referral.assign", target=referral, detail={"rep": rep.email}
        )
        if referral.stage != Stage.REJECTED:
            _on_commit_notify_new(referral.pk)
    return referral


def _on_commit_notify_new(referral_id: int) -> None:
    enqueue_after_commit("referrals.tasks.referral_notify_rep", referral_id)


# --- Moving through the pipeline --------------------------------------------------------


@dataclass(frozen=True)
class AdvanceResult:
    referral: Referral
    applied: bool
    reason: str = ""  # why not applied: "stale", "unchanged"


def referral_advance(
    *,
    referral_id: int,
    stage: str,
    actor: User | None = None,
    amount: Decimal | None = None,
    occurred_at: datetime | None = None,
    reason: str = "",
    source: str = ReferralStageChange.Source.REP,
    refresh_activity: bool = True,
) -> AdvanceResult:
    """Move a referral to ``stage`` as of ``occurred_at`` (default now).

    Any pipeline stage may follow any other (CRMs skip steps and correct themselves),
    but a change older than the referral's latest change is ignored ("stale"), so a
    late event never moves a referral back. ``rejected`` needs a reason and closes the
    referral for good. Rewards follow: paid on reaching won (and qualified, if the rule
    says so), reversed when a won referral moves back. ``refresh_activity`` False
    leaves the advocate's progress refresh to the caller (an import asks once per
    advocate at its end, not once per row).
    """
    if stage not in Stage.values:
        raise ReferralError(gettext("Unknown stage “%(stage)s”.") % {"stage": stage})
    if stage == Stage.REJECTED and reason not in RejectionReason.values:
        raise ReferralError(gettext("Say why the referral is rejected."))
    deal_amount_check(amount)
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        # The row lock orders concurrent changes of one referral (a rep's click and a
        # CRM event); the stale check below then sees the winner's timestamp.
        referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
        if referral is None:
            raise ReferralError(gettext("No such referral."))
        if referral.stage == Stage.REJECTED:
            raise ReferralError(
                gettext("This referral was rejected; its stage can no longer change.")
            )
        if occurred_at < referral.stage_changed_at:
            return AdvanceResult(referral=referral, applied=False, reason="stale")
        old = referral.stage
        if stage == old:
            if amount is not None and amount != referral.deal_amount:
                previous = referral.deal_amount
                Referral.objects.filter(pk=referral.pk).update(
                    deal_amount=amount, updated_at=timezone.now()
                )
                referral.deal_amount = amount
                kpis_changed()  # revenue, and maybe a won reward paid below
                fragments.advocates_changed([referral.advocate_id])
                if stage == Stage.WON:
                    # Won without an amount earned nothing under a percent or tier rule:
                    # the amount arriving later pays it then. A paid reward that the new
                    # amount changes is corrected (reversed, paid again).
                    won_amount_changed(
                        referral, RewardRule.objects.filter(is_active=True).first(), old=previous
                    )
                referral_figures_refresh(referral_ids=[referral.pk])
                if actor is not None:
                    audit_record(
                        actor=actor,
                        action="referral.amount",
                        target=referral,
                        detail={"stage": stage, "amount": str(amount)},
                    )
                return AdvanceResult(referral=referral, applied=True, reason="amount")
            return AdvanceResult(referral=referral, applied=False, reason="unchanged")
        fields = {
            "stage": stage,
            "stage_changed_at": occurred_at,
            "rejection_reason": reason if stage == Stage.REJECTED else "",
            "won_at": occurred_at if stage == Stage.WON else None,
            # .update() skips auto_now; the API's updated_since reads it.
            "updated_at": timezone.now(),
        }
        if amount is not None:
            fields["deal_amount"] = amount
        # Conditional on the stage we read: belt and braces on databases without row
        # locks (SQLite serialises writers anyway).
        updated = Referral.objects.filter(pk=referral.pk, stage=old).update(**fields)
        if not updated:
            raise ReferralError(gettext("The referral changed meanwhile; try again."))
        kpis_changed()
        if stage == Stage.REJECTED:
            referral_counts_refresh(advocate_ids=[referral.advocate_id])
        fragments.scopes_changed(fragments.Scope.REFERRALS)  # set-wise: no signal
        for name, value in fields.items():
            setattr(referral, name, value)
        change = ReferralStageChange.objects.create(
            referral=referral,
            from_stage=old,
            to_stage=stage,
            occurred_at=occurred_at,
            actor=actor,
            source=source,
            # The amount as of this change, so an outbound event retried later still
            # describes this change and not whatever the referral became since.
            deal_amount=referral.deal_amount,
        )
        if actor is not None:  # a person, not the CRM
            audit_record(
                actor=actor,
                action="referral.stage",
                target=referral,
                detail={
                    "from": old,
                    "to": stage,
                    "source": source,
                    **({"reason": reason} if reason else {}),
                    **({"amount": str(amount)} if amount is not None else {}),
                },
            )
        rule = RewardRule.objects.filter(is_active=True).first()
        if stage in QUALIFIED_OR_LATER and rule is not None:
            pay_qualified(referral, rule)
        if stage == Stage.WON:
            pay_won(referral, rule)
            pay_second_generation(referral, rule)
        elif old == Stage.WON:
            reverse_won(referral)
        # The stage and the rewards above: the KPIs' rollups of its day and advocate.
        referral_figures_refresh(referral_ids=[referral.pk])
        if refresh_activity and (Stage.WON in (stage, old) or stage == Stage.REJECTED):
            # Won, or no longer counted (the AMS counts referrals made and won): badges,
            # the AMS and last_active_at catch up in a worker.
            activity_after_commit(advocate_id=referral.advocate_id)
        events.emit("referral.stage_changed", referral_event_data(referral, change))
    return AdvanceResult(referral=referral, applied=True)
