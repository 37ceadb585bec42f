"""Pages of CRM records applied to Vouch, set-wise: one read of what is mapped, one of the
local matches, then bulk writes. A record whose digest matches what was applied last
time writes nothing, so a second run over the same records changes nothing.

- owners → ``CrmOwner``, linked to the Vouch rep or manager with the same email;
- companies → ``Company`` (matched by domain, else by name, else created);
- contacts → ``Person`` in the relationship graph (matched by email) and invitation
  candidates;
- deals → ``CrmDeal``, the context of a reference request; a deal Vouch pushed for a
  referral moves that referral's stage and amount (``referral_advance``, which pays the
  advocate once per stage reached).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from advocates.models import Company, Person
from advocates.services.matching_profiles import matching_profiles_refresh
from core import fragments
from core.roles import MANAGERS_GROUP, REPS_GROUP
from integrations.crm import base
from integrations.crm.models import CrmCompany, CrmConnection, CrmContact, CrmDeal, CrmOwner
from referrals.models import ReferralStageChange, Stage
from referrals.services import ReferralError, referral_advance

User = get_user_model()


@dataclass
class Applied:
    """What one page did: counts, and the records that failed with why."""

    counts: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (external_id, local, why)


@cache
def _digest_fields(kind: str) -> tuple[str, ...]:
    record_type = {
        "Owner": base.Owner,
        "Company": base.Company,
        "Contact": base.Contact,
        "Deal": base.Deal,
    }[kind]
    return tuple(f.name for f in fields(record_type) if f.name != "modified_at")


def digest(record: Any) -> str:
    """The record's values minus its modification stamp: a CRM touching a record without
    changing what Vouch reads leaves it unchanged here. (The repr of str, int, bool,
    Decimal, date and None is stable across runs and Python versions.)"""
    values = tuple(getattr(record, name) for name in _digest_fields(type(record).__name__))
    return hashlib.sha256(repr(values).encode()).hexdigest()


def _split(records: Sequence[Any], existing: dict[str, Any]) -> tuple[list, list, list]:
    """(new, changed, unchanged) records against the mapped rows by external id."""
    new, changed, unchanged = [], [], []
    for record in records:
        row = existing.get(record.external_id)
        if row is None:
            new.append(record)
        elif row.digest != digest(record):
            changed.append(record)
        else:
            unchanged.append(record)
    return new, changed, unchanged


def _mapped(model: Any, connection: CrmConnection, records: Iterable[Any]) -> dict[str, Any]:
    ids = [record.external_id for record in records]
    return {
        row.external_id: row
        for row in model.objects.filter(connection=connection, external_id__in=ids)
    }


def _by_external_id(model: Any, connection: CrmConnection, ids: Iterable[str]) -> dict[str, Any]:
    wanted = {external_id for external_id in ids if external_id}
    if not wanted:
        return {}
    return {
        row.external_id: row
        for row in model.objects.filter(connection=connection, external_id__in=wanted)
    }


def _write(
    model: Any,
    connection: CrmConnection,
    new: Sequence[Any],
    changed: Sequence[Any],
    existing: dict[str, Any],
    values: Callable[[Any], dict[str, Any]],
    done: Applied,
) -> list[Any]:
    """Insert the new records' rows and update the changed ones', in one query each;
    returns the updated rows."""
    model.objects.bulk_create(
        [model(connection=connection, external_id=r.external_id, **values(r)) for r in new]
    )
    rows = []
    for record in changed:
        row = existing[record.external_id]
        for name, value in values(record).items():
            setattr(row, name, value)
        rows.append(row)
    if rows:
        model.objects.bulk_update(rows, list(values(changed[0])))
    done.counts["created"] += len(new)
    done.counts["updated"] += len(changed)
    return rows


# --- Owners -----------------------------------------------------------------------------


def owners_apply(connection: CrmConnection, records: Sequence[base.Owner]) -> Applied:
    done = Applied()
    existing = _mapped(CrmOwner, connection, records)
    new, changed, unchanged = _split(records, existing)
    done.counts["unchanged"] += len(unchanged)
    emails = {record.email.lower() for record in [*new, *changed] if record.email}
    staff = {
        user.email.lower(): user
        for user in User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails, groups__name__in=[REPS_GROUP, MANAGERS_GROUP])
        .distinct()
    }
    now = timezone.now()

    def values(record: base.Owner) -> dict[str, Any]:
        return {
            "email": record.email,
            "name": f"{record.first_name} {record.last_name}".strip(),
            "active": record.active,
            "user": staff.get(record.email.lower()),
            "digest": digest(record),
            "synced_at": now,
        }

    _write(CrmOwner, connection, new, changed, existing, values, done)
    return done


# --- Companies --------------------------------------------------------------------------


def _size_band(employees: int | None) -> str:
    if not employees:
        return ""
    for limit, band in ((50, "1-50"), (500, "51-500"), (5000, "501-5000")):
        if employees <= limit:
            return band
    return "5000+"


def companies_apply(connection: CrmConnection, records: Sequence[base.Company]) -> Applied:
    done = Applied()
    existing = {
        row.external_id: row
        for row in CrmCompany.objects.filter(
            connection=connection, external_id__in=[r.external_id for r in records]
        ).select_related("company")
    }
    new, changed, unchanged = _split(records, existing)
    done.counts["unchanged"] += len(unchanged)
    owners = _by_external_id(CrmOwner, connection, (r.owner_id for r in [*new, *changed]))
    # A new CRM company is first matched to a Vouch company by domain, then by name.
    domains = {r.domain for r in new if r.domain}
    names = {r.name.lower() for r in new if r.name}
    local: list[Company] = list(
        Company.objects.annotate(name_lower=Lower("name")).filter(
            Q(domain__in=domains) | Q(name_lower__in=names)
        )
    )
    by_domain = {c.domain.lower(): c for c in local if c.domain}
    by_name = {c.name.lower(): c for c in local}
    now = timezone.now()
    links: list[CrmCompany] = []
    touched: list[tuple[Company, base.Company]] = []
    created: list[Company] = []
    for record in new:
        company = (by_domain.get(record.domain) if record.domain else None) or (
            by_name.get(record.name.lower()) if record.name else None
        )
        if company is None:
            company = Company(
                name=record.name[:200] or record.domain or record.external_id,
                domain=record.domain[:253],
                industry=record.industry[:100],
                size_band=_size_band(record.employees),
                updated_at=now,
            )
            created.append(company)
            done.counts["created"] += 1
        else:
            touched.append((company, record))
            done.counts["matched"] += 1
        # Two CRM records of one company in a page find the company the first made.
        if record.domain:
            by_domain.setdefault(record.domain, company)
        if record.name:
            by_name.setdefault(record.name.lower(), company)
        links.append(
            CrmCompany(
                connection=connection,
                external_id=record.external_id,
                company=company,
                owner=owners.get(record.owner_id),
                digest=digest(record),
                synced_at=now,
            )
        )
    # One insert for the page (PostgreSQL and SQLite return the new ids).
    Company.objects.bulk_create(created)
    CrmCompany.objects.bulk_create(links)
    rows = []
    for record in changed:
        row = existing[record.external_id]
        row.owner, row.digest, row.synced_at = owners.get(record.owner_id), digest(record), now
        rows.append(row)
        touched.append((row.company, record))
        done.counts["updated"] += 1
    CrmCompany.objects.bulk_update(rows, ["owner", "digest", "synced_at"])
    # The CRM is where accounts are kept: what it says fills in or corrects Vouch's.
    companies = []
    matched_changed = set()
    for company, record in touched:
        matched = (company.industry, company.size_band)
        company.name = record.name[:200] or company.name
        company.domain = record.domain[:253] or company.domain
        company.industry = record.industry[:100] or company.industry
        company.size_band = _size_band(record.employees) or company.size_band
        company.updated_at = now
        companies.append(company)
        if (company.industry, company.size_band) != matched:
            matched_changed.add(company.pk)
    Company.objects.bulk_update(
        companies, ["name", "domain", "industry", "size_band", "updated_at"]
    )
    # A company's industry and size band are part of its advocates' matching profiles.
    matching_profiles_refresh(company_ids=matched_changed)
    if companies:
        # Written set-wise, where a save would have dropped every fragment (core.fragments:
        # a company's name shows on many pages).
        fragments.reset()
    return done


# --- Contacts ---------------------------------------------------------------------------


def contacts_apply(connection: CrmConnection, records: Sequence[base.Contact]) -> Applied:
    done = Applied()
    existing = _mapped(CrmContact, connection, records)
    new, changed, unchanged = _split(records, existing)
    done.counts["unchanged"] += len(unchanged)
    todo = [*new, *changed]
    companies = {
        row.external_id: row
        for row in CrmCompany.objects.filter(
            connection=connection, external_id__in={r.company_id for r in todo if r.company_id}
        ).select_related("company")
    }
    owners = _by_external_id(CrmOwner, connection, (r.owner_id for r in todo))
    emails = {r.email.lower() for r in todo if r.email}
    people: dict[str, Person] = {
        p.email.lower(): p
        for p in Person.objects.exclude(email="")
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
    }
    missing = []
    for record in todo:
        email = record.email.lower()
        if email and email not in people:
            company = companies.get(record.company_id)
            person = Person(
                full_name=f"{record.first_name} {record.last_name}".strip()[:200] or record.email,
                email=record.email,
                company_name=company.company.name if company else "",
                title=record.title[:200],
                kind=Person.Kind.CONTACT,
            )
            people[email] = person
            missing.append(person)
    # Two syncs at once may both create a person: the unique email index keeps one.
    Person.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        people.update(
            {
                p.email.lower(): p
                for p in Person.objects.exclude(email="")
                .annotate(email_lower=Lower("email"))
                .filter(email_lower__in=[p.email.lower() for p in missing])
            }
        )
    now = timezone.now()

    def values(record: base.Contact) -> dict[str, Any]:
        return {
            "email": record.email,
            "first_name": record.first_name[:150],
            "last_name": record.last_name[:150],
            "title": record.title[:200],
            "company": companies.get(record.company_id),
            "owner": owners.get(record.owner_id),
            "person": people.get(record.email.lower()) if record.email else None,
            "digest": digest(record),
            "synced_at": now,
        }

    _write(CrmContact, connection, new, changed, existing, values, done)
    return done


# --- Deals ------------------------------------------------------------------------------


def deal_stage(connection: CrmConnection, provider: base.Provider, record: base.Deal) -> str:
    """The referral stage a deal stands for: closed is won or lost; an open stage is what
    the manager's map, else the provider's default map, says; else "opportunity"."""
    if record.is_closed:
        return Stage.WON if record.is_won else Stage.LOST
    mapped = connection.stage_map.get(record.stage) or provider.stage_map.get(record.stage)
    return (
        mapped
        if mapped in (Stage.SUBMITTED, Stage.QUALIFIED, Stage.OPPORTUNITY)
        else Stage.OPPORTUNITY
    )


def deals_apply(
    connection: CrmConnection, provider: base.Provider, records: Sequence[base.Deal]
) -> Applied:
    done = Applied()
    existing = {
        row.external_id: row
        for row in CrmDeal.objects.filter(
            connection=connection, external_id__in=[r.external_id for r in records]
        ).select_related("referral")
    }
    new, changed, unchanged = _split(records, existing)
    done.counts["unchanged"] += len(unchanged)
    todo = [*new, *changed]
    companies = _by_external_id(CrmCompany, connection, (r.company_id for r in todo))
    owners = _by_external_id(CrmOwner, connection, (r.owner_id for r in todo))
    now = timezone.now()

    def values(record: base.Deal) -> dict[str, Any]:
        return {
            "name": record.name[:200],
            "amount": record.amount,
            "stage": record.stage[:100],
            "stage_label": record.stage_label[:100],
            "is_closed": record.is_closed,
            "is_won": record.is_won,
            "close_date": record.close_date,
            "modified_at": record.modified_at,
            "company": companies.get(record.company_id),
            "owner": owners.get(record.owner_id),
            "digest": digest(record),
            "synced_at": now,
        }

    rows = _write(CrmDeal, connection, new, changed, existing, values, done)
    # A pushed referral's deal moved: its stage and amount follow, after this page commits
    # (referral_advance locks the referral row and pays the reward in its own atomic).
    for row in rows:
        if row.referral_id is None:
            continue
        stage = deal_stage(connection, provider, _record_of(row))
        try:
            result = referral_advance(
                referral_id=row.referral_id,
                stage=stage,
                amount=row.amount if stage == Stage.WON else None,
                occurred_at=row.modified_at or now,
                source=ReferralStageChange.Source.CRM,
            )
        except ReferralError as error:
            done.errors.append((row.external_id, f"referral {row.referral_id}", str(error)))
            done.counts["failed"] += 1
            continue
        if result.applied:
            done.counts["referrals_moved"] += 1
    return done


def _record_of(row: CrmDeal) -> base.Deal:
    return base.Deal(
        external_id=row.external_id,
        name=row.name,
        amount=row.amount,
        stage=row.stage,
        stage_label=row.stage_label,
        is_closed=row.is_closed,
        is_won=row.is_won,
    )


def apply(
    connection: CrmConnection, provider: base.Provider, object_name: str, records: Sequence[Any]
) -> Applied:
    """Apply one page of ``object_name`` in one transaction."""
    with transaction.atomic():
        if object_name == "owners":
            return owners_apply(connection, records)
        if object_name == "companies":
            return companies_apply(connection, records)
        if object_name == "contacts":
            return contacts_apply(connection, records)
        if object_name == "deals":
            return deals_apply(connection, provider, records)
    raise ValueError(f"Unknown CRM object {object_name!r}")
