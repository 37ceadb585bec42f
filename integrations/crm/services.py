"""Writes for the CRM connectors that people start: connect (OAuth 2.0, or Salesforce's
JWT bearer flow), disconnect, the stage map, "sync now", inviting a CRM contact, and a
reference request made from a CRM deal."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Invitation, User
from advocates.services import InvitationError, invitation_create
from core.audit import audit_record
from integrations.crm import base, salesforce
from integrations.crm.models import (
    CrmConnection,
    CrmContact,
    CrmDeal,
    DealReferenceRequest,
    Provider,
    SyncRun,
)
from integrations.crm.providers import configured, provider_for
from integrations.crm.tokens import tokens_fields
from integrations.oauth import OAuthState
from integrations.tasks import crm_sync
from references.models import ReferenceRequest
from references.services import request_create
from referrals.models import Stage


class CrmError(Exception):
    """A refused action; the message is fit to show the person."""


class CrmState(OAuthState):
    SESSION_KEY = "crm_oauth_states"


def redirect_uri(provider: str) -> str:
    return settings.SITE_URL + reverse("integrations:crm_callback", args=[provider])


def authorize_url(*, provider: str, session: Any) -> str:
    if not configured(provider):
        raise CrmError(
            _("Set the %(provider)s app's client id and secret first.")
            % {"provider": Provider(provider).label}
        )
    return provider_for(provider).authorize_url(
        state=CrmState(session).issue(), redirect_uri=redirect_uri(provider)
    )


def _connection_save(
    *, provider: str, tokens: base.Tokens, flow: str, by: User | None
) -> CrmConnection:
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().filter(provider=provider).first()
        fields = {
            **tokens_fields(tokens),
            "flow": flow,
            "account_id": tokens.account_id[:64],
            "account_name": tokens.account_name[:200],
            "status": CrmConnection.Status.ACTIVE,
            "broken_reason": "",
            "broken_at": None,
        }
        if connection is None:
            connection = CrmConnection.objects.create(
                provider=provider, connected_by=by, connected_at=timezone.now(), **fields
            )
        else:
            # Reconnecting mends a broken connection and keeps what was mapped (and the
            # date referrals are pushed from).
            for name, value in fields.items():
                setattr(connection, name, value)
            connection.save()
        audit_record(actor=by, action="crm.connect", target=connection, detail={"flow": flow})
    return connection


def connect_complete(*, provider: str, code: str, by: User) -> CrmConnection:
    """Exchange the OAuth ``code`` for tokens and keep them (encrypted)."""
    if not code:
        raise CrmError(_("The CRM sent no authorization code: start again from “Connect”."))
    try:
        tokens = provider_for(provider).exchange_code(
            code=code, redirect_uri=redirect_uri(provider)
        )
    except base.RetryLater:
        raise CrmError(_("The CRM could not be reached: try again in a minute.")) from None
    except base.CrmProblem as error:
        raise CrmError(_("The CRM refused the connection: %(error)s") % {"error": error}) from None
    return _connection_save(provider=provider, tokens=tokens, flow=CrmConnection.Flow.OAUTH, by=by)


def connect_jwt(*, by: User) -> CrmConnection:
    """Salesforce's JWT bearer flow: the integration user named in the settings."""
    try:
        tokens = salesforce.jwt_connect()
    except base.RetryLater:
        raise CrmError(_("Salesforce could not be reached: try again in a minute.")) from None
    except base.CrmProblem as error:
        raise CrmError(
            _("Salesforce refused the JWT grant: %(error)s") % {"error": error}
        ) from None
    return _connection_save(
        provider=Provider.SALESFORCE, tokens=tokens, flow=CrmConnection.Flow.JWT, by=by
    )


def disconnect(*, connection_id: int, by: User) -> None:
    """Forget the connection, its tokens and what it mapped (Vouch's companies, people and
    referrals stay)."""
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().get(pk=connection_id)
        audit_record(actor=by, action="crm.disconnect", target=connection)
        connection.delete()


STAGES = (Stage.SUBMITTED, Stage.QUALIFIED, Stage.OPPORTUNITY)


def stage_map_set(*, connection_id: int, mapping: dict[str, str], by: User) -> None:
    bad = sorted(value for value in mapping.values() if value not in STAGES)
    if bad:
        raise CrmError(
            _("Not a referral stage for an open deal: %(stages)s.") % {"stages": ", ".join(bad)}
        )
    with transaction.atomic():
        CrmConnection.objects.filter(pk=connection_id).update(
            stage_map=mapping, updated_at=timezone.now()
        )
        audit_record(
            actor=by,
            action="crm.stage_map",
            target=CrmConnection.objects.get(pk=connection_id),
            detail=mapping,
        )


def sync_request(*, connection_id: int, by: User) -> None:
    """ "Sync now": a run on the worker, right after this commits."""
    connection = CrmConnection.objects.get(pk=connection_id)
    if not connection.active:
        raise CrmError(_("Connect again first: the CRM refused Vouch's access."))
    transaction.on_commit(lambda: crm_sync.delay(connection_id, SyncRun.Trigger.MANUAL, by.pk))


def contact_invite(*, contact: CrmContact, by: User) -> Invitation:
    """Invite a CRM contact to the community (the caller checked it is theirs to invite)."""
    if not contact.email:
        raise CrmError(_("This contact has no email address in the CRM."))
    # invitation_create refuses a member and re-sends an open invitation itself.
    try:
        return invitation_create(
            email=contact.email,
            invited_by=by,
            first_name=contact.first_name,
            last_name=contact.last_name,
            company_name=contact.company.company.name if contact.company else "",
            title=contact.title,
        )
    except InvitationError as error:
        raise CrmError(str(error)) from None
    except ValidationError:
        raise CrmError(
            _("The CRM's address for %(name)s is not valid.") % {"name": contact.full_name}
        ) from None


def request_from_deal(*, deal: CrmDeal | None, rep: User, **fields: Any) -> ReferenceRequest:
    """A reference request from the CRM's "Request a reference" link, tied to its deal so
    the calls it gets are written back to the deal."""
    with transaction.atomic():
        created = request_create(rep=rep, **fields)
        if deal is not None:
            DealReferenceRequest.objects.create(deal=deal, request=created)
    return created
