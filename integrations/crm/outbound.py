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
from django.utils import timezone

from advocates.models import Advocate
from integrations.crm import base
from integrations.crm.inbound import Applied
from integrations.crm.models import CrmCompany, CrmConnection, CrmDeal, CrmOwner
from references.models import Ask
from referrals.models import Referral, Stage

# At most this many writes of each kind per run; the rest go in the next run.
BATCH = 200

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


def referral_out(connection: CrmConnection, referral: Referral) -> base.ReferralOut:
    owner = (
        CrmOwner.objects.filter(connection=connection, user_id=referral.owner_rep_id, active=True)
        .order_by("id")
        .first()
        if referral.owner_rep_id
        else None
    )
    company = (
        CrmCompany.objects.filter(connection=connection, company__domain=referral.referred_domain)
        .order_by("id")
        .first()
        if referral.referred_domain
        else None
    )
    first, last = _name_split(referral.referred_name)
    advocate_user = referral.advocate.user
    return base.ReferralOut(
        referral_id=referral.pk,
        first_name=first,
        last_name=last or referral.referred_email,
        email=referral.referred_email,
        company_name=referral.referred_company,
        title=referral.referred_title,
        note=referral.note,
        advocate_name=advocate_user.get_full_name() or advocate_user.email,
        advocate_email=advocate_user.email,
        owner_id=owner.external_id if owner else "",
        company_id=company.external_id if company else "",
    )


def referrals_push(
    connection: CrmConnection, provider: base.Provider, call: Call, referrals: list[Referral]
) -> Applied:
    done = Applied()
    for referral in referrals:
        out = referral_out(connection, referral)
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


def companies_write(connection: CrmConnection, provider: base.Provider, call: Call) -> Applied:
    """The advocacy of each CRM company that has advocates (or had: a count falling to
    zero is written too), where it changed since it was last written."""
    done = Applied()
    links = list(
        CrmCompany.objects.filter(connection=connection)
        .filter(Q(company__advocates__isnull=False) | ~Q(written_digest=""))
        .distinct()
        .select_related("company")
        .order_by("id")
    )
    advocacy = advocacy_by_company([link.company_id for link in links])
    for link in links:
        values = advocacy[link.company_id]
        new_digest = _digest(values)
        if new_digest == link.written_digest:
            continue
        if done.counts["companies"] + done.counts["failed"] >= BATCH:
            break
        try:
            call(provider.company_write, link.external_id, values)
        except base.FieldMissing as error:
            # Every account would fail alike: say it once, with the fields to create.
            done.errors.append((link.external_id, f"company {link.company}", str(error)))
            done.counts["failed"] += 1
            break
        except base.RecordGone as error:
            done.errors.append((link.external_id, f"company {link.company}", str(error)))
            link.delete()
            continue
        except base.CrmError as error:
            done.errors.append((link.external_id, f"company {link.company}", str(error)))
            done.counts["failed"] += 1
            continue
        CrmCompany.objects.filter(pk=link.pk).update(written_digest=new_digest)
        done.counts["companies"] += 1
    return done


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
    """The reference calls held for each deal a reference was requested from."""
    done = Applied()
    deals = list(
        CrmDeal.objects.filter(connection=connection, requests__isnull=False)
        .distinct()
        .order_by("id")
    )
    influence = influence_by_deal([deal.pk for deal in deals])
    for deal in deals:
        values = influence[deal.pk]
        new_digest = _digest(values)
        if not values.reference_calls or new_digest == deal.written_digest:
            continue
        if done.counts["deals"] + done.counts["failed"] >= BATCH:
            break
        try:
            call(provider.deal_write, deal.external_id, values)
        except base.FieldMissing as error:
            done.errors.append((deal.external_id, f"deal {deal.name}", str(error)))
            done.counts["failed"] += 1
            break
        except (base.RecordGone, base.CrmError) as error:
            done.errors.append((deal.external_id, f"deal {deal.name}", str(error)))
            done.counts["failed"] += 1
            continue
        CrmDeal.objects.filter(pk=deal.pk).update(
            written_digest=new_digest, synced_at=timezone.now()
        )
        done.counts["deals"] += 1
    return done
