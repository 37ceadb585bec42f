"""Reads for the CRM pages: each CRM's connection and its recent runs, the contacts a
person may invite, a deal seen from the "Request a reference" link."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower

from advocates.models import Advocate, Invitation, User
from integrations.crm.models import (
    CrmCompany,
    CrmConnection,
    CrmContact,
    CrmDeal,
    CrmOwner,
    Provider,
    RecordError,
    SyncRun,
)
from integrations.crm.providers import configured, jwt_configured, provider_for

RUNS_SHOWN = 5
ERRORS_SHOWN = 20


@dataclass
class CrmStatus:
    provider: str
    label: str
    configured: bool
    connection: CrmConnection | None = None
    runs: list[SyncRun] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    error_count: int = 0
    unmatched_owners: list[CrmOwner] = field(default_factory=list)
    mapped: dict[str, int] = field(default_factory=dict)
    stage_map: dict[str, str] = field(default_factory=dict)
    jwt: bool = False


def crm_statuses() -> list[CrmStatus]:
    connections = {c.provider: c for c in CrmConnection.objects.select_related("connected_by")}
    statuses = []
    for provider, label in Provider.choices:
        status = CrmStatus(
            provider=provider,
            label=label,
            configured=configured(provider),
            jwt=provider == Provider.SALESFORCE and jwt_configured(),
        )
        connection = connections.get(provider)
        if connection is not None:
            status.connection = connection
            status.runs = list(connection.runs.select_related("requested_by")[:RUNS_SHOWN])
            if status.runs:
                last = status.runs[0]
                status.errors = list(last.errors.all()[:ERRORS_SHOWN])
                status.error_count = last.errors.count()
            status.unmatched_owners = list(
                CrmOwner.objects.filter(connection=connection, user__isnull=True, active=True)
                .exclude(email="")
                .order_by("email")[:20]
            )
            status.mapped = {
                "companies": CrmCompany.objects.filter(connection=connection).count(),
                "contacts": CrmContact.objects.filter(connection=connection).count(),
                "deals": CrmDeal.objects.filter(connection=connection).count(),
                "owners": CrmOwner.objects.filter(connection=connection).count(),
            }
            status.stage_map = {**provider_for(provider).stage_map, **connection.stage_map}
        statuses.append(status)
    return statuses


def run_for(connection_id: int, run_id: int) -> SyncRun | None:
    return (
        SyncRun.objects.filter(connection_id=connection_id, pk=run_id)
        .select_related("connection", "requested_by")
        .first()
    )


def candidates(*, user: User, sees_all: bool) -> QuerySet[CrmContact]:
    """CRM contacts with an email who are not advocates: a manager sees all of them, a rep
    those the CRM says they own. ``invited`` says whether an invitation is open."""
    emails_of_advocates = Advocate.objects.annotate(email_lower=Lower("user__email")).filter(
        email_lower=Lower(OuterRef("email"))
    )
    open_invitations = Invitation.objects.annotate(email_lower=Lower("email")).filter(
        email_lower=Lower(OuterRef("email")), accepted_at__isnull=True
    )
    contacts = (
        CrmContact.objects.exclude(email="")
        .annotate(is_advocate=Exists(emails_of_advocates), invited=Exists(open_invitations))
        .filter(is_advocate=False)
        .select_related("company__company", "owner__user", "connection")
        .order_by("last_name", "first_name", "id")
    )
    if not sees_all:
        contacts = contacts.filter(owner__user=user)
    return contacts


def deal_for_link(*, provider: str, external_id: str) -> CrmDeal | None:
    return (
        CrmDeal.objects.filter(connection__provider=provider, external_id=external_id)
        .select_related("company__company", "owner__user")
        .first()
    )


def deal_contact(deal: CrmDeal) -> CrmContact | None:
    """Who the prospect probably is: a contact of the deal's company, the deal owner's first."""
    if deal.company_id is None:
        return None
    contacts = CrmContact.objects.filter(company_id=deal.company_id).exclude(email="")
    return (
        contacts.filter(owner_id=deal.owner_id).order_by("id").first() if deal.owner_id else None
    ) or contacts.order_by("id").first()
