"""What Vouch writes to a CRM: referrals as contact + deal, the account's advocacy, the
reference calls on a deal. Each compares with what it wrote last time (a digest) and
writes only what changed, so a second run sends nothing.

Each function takes ``call``, the sync's wrapper that refreshes an expired token once,
and returns ``(counts, errors)`` like a page applied inbound.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.db.models import Count, Max, Q

from advocates.models import Advocate
from integrations.crm import base
from integrations.crm.inbound import Applied
from integrations.crm.models import CrmCompany, CrmConnection, CrmDeal, CrmOwner
from references.models import Ask
from referrals.models import Referral, Stage

# Referrals pushed per run (one contact and one deal each), and records written per
# kind per run (many per call); the rest go in the next run.
BATCH = 200
MAX_WRITES = 5000

Call = Callable[..., Any]


def _digest(values: object) -> str:
    return hashlib.sha256(
        json.dumps(asdict(values), default=str, sort_keys=True).encode()  # type: ignore[call-overload]
    ).hexdigest()


def _name_split(name: str) -> tuple[str, str]:
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else ("", last)


def referrals_pending(connection: CrmConnection) -> list[Referral]:
    """Referrals made since the CRM was connected that it does not have yet (not rejected,
    not duplicates), oldest first."""
    return list(
        Referral.objects.filter(created_at__gte=connection.connected_at, duplicate_of__isnull=True)
        .exclude(stage=Stage.REJECTED)
        .exclude(crm_deals__connection=connection)
        .select_related("advocate__user", "owner_rep")
        .order_by("created_at", "id")[:BATCH]
    )


def referrals_out(connection: CrmConnection, referrals: list[Referral]) -> list[base.ReferralOut]:
    """What the CRM is sent for each referral: its owner rep's CRM user and the CRM
    company at its domain looked up for all of them at once."""
    owners: dict[int, str] = {}
    for user_id, external_id in (
        CrmOwner.objects.filter(
            connection=connection,
            active=True,
            user_id__in={r.owner_rep_id for r in referrals if r.owner_rep_id},
        )
        .order_by("-id")
        .values_list("user_id", "external_id")
    ):
        owners[user_id] = external_id  # the oldest link wins (ordered newest first)
    companies: dict[str, str] = {}
    for domain, external_id in (
        CrmCompany.objects.filter(
            connection=connection,
            company__domain__in={r.referred_domain for r in referrals if r.referred_domain},
        )
        .order_by("-id")
        .values_list("company__domain", "external_id")
    ):
        companies[domain] = external_id
    outs = []
    for referral in referrals:
        first, last = _name_split(referral.referred_name)
        advocate_user = referral.advocate.user
        outs.append(
            base.ReferralOut(
                referral_id=referral.pk,
                first_name=first,
                last_name=last or referral.referred_email,
                email=referral.referred_email,
                company_name=referral.referred_company,
                title=referral.referred_title,
                note=referral.note,
                advocate_name=advocate_user.get_full_name() or advocate_user.email,
                advocate_email=advocate_user.email,
                owner_id=owners.get(referral.owner_rep_id or 0, ""),
                company_id=companies.get(referral.referred_domain, "")
                if referral.referred_domain
                else "",
            )
        )
    return outs


def referrals_push(
    connection: CrmConnection, provider: base.Provider, call: Call, referrals: list[Referral]
) -> Applied:
    done = Applied()
    for referral, out in zip(referrals, referrals_out(connection, referrals), strict=True):
        try:
            pushed: base.Pushed = call(provider.referral_push, out)
        except (base.CrmError, base.FieldMissing, base.RecordGone) as error:
            done.errors.append(("", f"referral {referral.pk}", str(error)))
            done.counts["failed"] += 1
            continue
        # The deal is new in the CRM; should a sync have read it already, it is the same.
        CrmDeal.objects.update_or_create(
            connection=connection,
            external_id=pushed.deal_id,
            defaults={"referral": referral},
            create_defaults={
                "referral": referral,
                "name": (referral.referred_company or referral.referred_name)[:200],
                # Empty: the deal as the CRM describes it arrives with the next run.
                "digest": "",
            },
        )
        done.counts["referrals"] += 1
        if pushed.fields_missing:
            done.errors.append(
                (
                    pushed.deal_id,
                    f"referral {referral.pk}",
                    "Written without the fields the CRM does not have: "
                    + ", ".join(pushed.fields_missing)
                    + " (create them to see the advocate on the deal).",
                )
            )
    return done


def advocacy_by_company(company_ids: list[int]) -> dict[int, base.Advocacy]:
    """Each company's advocacy, in three grouped queries."""
    advocates = {
        row["company_id"]: row
        for row in Advocate.objects.filter(
            company_id__in=company_ids, status=Advocate.Status.ACTIVE
        )
        .values("company_id")
        .annotate(n=Count("id"), ams=Max("ams"))
    }
    references = dict(
        Ask.objects.filter(advocate__company_id__in=company_ids, status=Ask.Status.COMPLETED)
        .values("advocate__company_id")
        .annotate(n=Count("id"))
        .values_list("advocate__company_id", "n")
    )
    referrals = {
        row["advocate__company_id"]: row
        for row in Referral.objects.filter(advocate__company_id__in=company_ids)
        .exclude(stage=Stage.REJECTED)
        .values("advocate__company_id")
        .annotate(n=Count("id"), won=Count("id", filter=Q(stage=Stage.WON)))
    }
    return {
        company_id: base.Advocacy(
            advocates=advocates.get(company_id, {}).get("n", 0),
            references_given=references.get(company_id, 0),
            referrals=referrals.get(company_id, {}).get("n", 0),
            referrals_won=referrals.get(company_id, {}).get("won", 0),
            ams=advocates.get(company_id, {}).get("ams"),
        )
        for company_id in company_ids
    }


def _write_batched(
    *,
    kind: str,
    rows: list[Any],
    values: dict[int, Any],
    label: Callable[[Any], str],
    write: Callable[..., dict[str, base.CrmProblem | None]],
    batch_size: int,
    call: Call,
    model: Any,
) -> Applied:
    """Write each row's values where they changed since last written, ``batch_size`` per
    call; mark what the CRM took as written. A custom field the CRM lacks fails every
    record alike: it is said once and the rest waits for the next run."""
    done = Applied()
    pending = []
    for row in rows:
        digest = _digest(values[row.pk])
        if digest != row.written_digest:
            pending.append((row, digest))
    pending = pending[:MAX_WRITES]
    for start in range(0, len(pending), batch_size):
        chunk = pending[start : start + batch_size]
        try:
            results = call(write, [(row.external_id, values[row.pk]) for row, _ in chunk])
        except base.FieldMissing as error:
            row = chunk[0][0]
            done.errors.append((row.external_id, label(row), str(error)))
            done.counts["failed"] += len(chunk)
            break
        written, gone, missing = [], [], None
        for row, digest in chunk:
            problem = results.get(row.external_id)
            if problem is None:
                row.written_digest = digest
                written.append(row)
            elif isinstance(problem, base.FieldMissing):
                missing = missing or (row, problem)
                done.counts["failed"] += 1
            else:
                done.errors.append((row.external_id, label(row), str(problem)))
                done.counts["failed"] += 1
                if isinstance(problem, base.RecordGone):
                    gone.append(row.pk)
        model.objects.bulk_update(written, ["written_digest"])
        done.counts[kind] += len(written)
        if gone and model is CrmCompany:
            # Deleted in the CRM: forget the link (the Vouch company stays).
            CrmCompany.objects.filter(pk__in=gone).delete()
        if missing is not None:
            row, problem = missing
            done.errors.append((row.external_id, label(row), str(problem)))
            break
    return done


def companies_write(connection: CrmConnection, provider: base.Provider, call: Call) -> Applied:
    """The advocacy of each CRM company that has advocates (or had: a count falling to
    zero is written too), where it changed since it was last written."""
    links = list(
        CrmCompany.objects.filter(connection=connection)
        .filter(Q(company__advocates__isnull=False) | ~Q(written_digest=""))
        .distinct()
        .select_related("company")
        .order_by("id")
    )
    by_company = advocacy_by_company([link.company_id for link in links])
    return _write_batched(
        kind="companies",
        rows=links,
        values={link.pk: by_company[link.company_id] for link in links},
        label=lambda link: f"company {link.company}",
        write=provider.companies_write,
        batch_size=provider.batch_size,
        call=call,
        model=CrmCompany,
    )


def influence_by_deal(deal_ids: list[int]) -> dict[int, base.Influence]:
    rows = (
        Ask.objects.filter(
            request__crm_deal_link__deal_id__in=deal_ids, status=Ask.Status.COMPLETED
        )
        .values_list(
            "request__crm_deal_link__deal_id",
            "advocate__user__first_name",
            "advocate__user__last_name",
        )
        .order_by("completed_at", "id")
    )
    calls: dict[int, list[str]] = {deal_id: [] for deal_id in deal_ids}
    for deal_id, first, last in rows:
        calls[deal_id].append(f"{first} {last}".strip())
    return {
        deal_id: base.Influence(
            reference_calls=len(names), advocates=", ".join(dict.fromkeys(names))
        )
        for deal_id, names in calls.items()
    }


def deals_write(connection: CrmConnection, provider: base.Provider, call: Call) -> Applied:
    """The reference calls held for each deal a reference was requested from (once it
    has had one)."""
    deals = list(
        CrmDeal.objects.filter(connection=connection, requests__isnull=False)
        .distinct()
        .order_by("id")
    )
    influence = influence_by_deal([deal.pk for deal in deals])
    deals = [deal for deal in deals if influence[deal.pk].reference_calls]
    return _write_batched(
        kind="deals",
        rows=deals,
        values=influence,
        label=lambda deal: f"deal {deal.name}",
        write=provider.deals_write,
        batch_size=provider.batch_size,
        call=call,
        model=CrmDeal,
    )
