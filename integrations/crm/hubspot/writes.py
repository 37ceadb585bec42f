"""Writing to HubSpot: the referral's contact and deal, and advocacy/influence properties.

Custom properties Vouch writes (an admin creates them in HubSpot; until then HubSpot
answers PROPERTY_DOESNT_EXIST and Vouch reports the name instead of failing the record):

- deals: ``vouch_advocate_email`` and ``vouch_referral_id`` on a referral's deal;
  ``vouch_reference_calls`` and ``vouch_reference_advocates`` on a deal calls helped.
- companies: ``vouch_advocates``, ``vouch_references_given``, ``vouch_referrals``,
  ``vouch_referrals_won``, ``vouch_ams``.

Batch writes (``companies_write``/``deals_write``) use ``POST /crm/v3/objects/{object}/batch/
update``, up to 100 inputs a call. HubSpot answers 200 when every record was written, 207
(multi-status) when some were not: each error names its records in ``context.ids`` or, for
inputs sent with an ``objectWriteTraceId``, in ``context.objectWriteTraceId`` (HubSpot's
error-handling docs, "Multi-status errors"), so every input carries its own id as its trace
id. A property the portal lacks refuses the whole call (400 PROPERTY_DOESNT_EXIST): nothing
was written, and each item reports the missing names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import urllib3
from django.conf import settings
from hubspot import Client
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException

from integrations.crm.base import (
    Advocacy,
    CrmError,
    CrmProblem,
    FieldMissing,
    Influence,
    Pushed,
    RecordGone,
    ReferralOut,
    RetryLater,
)
from integrations.crm.hubspot.api import (
    _API_ERRORS,
    _body,
    _call,
    _missing_properties,
    _problem,
)

# Custom properties (see the module docstring).
DEAL_ADVOCATE_EMAIL = "vouch_advocate_email"
DEAL_REFERRAL_ID = "vouch_referral_id"
DEAL_REFERENCE_CALLS = "vouch_reference_calls"
DEAL_REFERENCE_ADVOCATES = "vouch_reference_advocates"
COMPANY_ADVOCATES = "vouch_advocates"
COMPANY_REFERENCES_GIVEN = "vouch_references_given"
COMPANY_REFERRALS = "vouch_referrals"
COMPANY_REFERRALS_WON = "vouch_referrals_won"
COMPANY_AMS = "vouch_ams"

# A referral's deal starts in the default pipeline's first stage.
REFERRAL_PIPELINE = "default"
REFERRAL_STAGE = "appointmentscheduled"
# HUBSPOT_DEFINED association type ids (HubSpot's associations v4 reference).
DEAL_TO_CONTACT = 3
DEAL_TO_COMPANY = 5
CONTACT_TO_COMPANY = 1

# HubSpot's batch update takes at most 100 inputs (companies and deals).
BATCH_SIZE = 100
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


def referral_push(client: Client, referral: ReferralOut) -> Pushed:
    """The referred person's contact and a deal for them (Provider.referral_push)."""
    contact_id = _contact_for(client, referral)
    advocate = f"{referral.advocate_name} <{referral.advocate_email}>"
    properties = {
        "dealname": f"{referral.company_name or referral.last_name}: referral from "
        f"{referral.advocate_name}",
        "pipeline": REFERRAL_PIPELINE,
        "dealstage": REFERRAL_STAGE,
        # The standard field says who referred, even where the custom ones are missing.
        "description": f"Referred by {advocate} through Vouch "
        f"(referral {referral.referral_id})." + (f"\n\n{referral.note}" if referral.note else ""),
        DEAL_ADVOCATE_EMAIL: referral.advocate_email,
        DEAL_REFERRAL_ID: str(referral.referral_id),
    }
    if referral.owner_id:
        properties["hubspot_owner_id"] = referral.owner_id
    associations = [_association(contact_id, DEAL_TO_CONTACT)]
    if referral.company_id:
        associations.append(_association(referral.company_id, DEAL_TO_COMPANY))
    basic = client.crm.deals.basic_api
    missing: tuple[str, ...] = ()

    def create(props: dict[str, str]) -> Any:
        return basic.create(
            simple_public_object_input_for_create={
                "properties": props,
                "associations": associations,
            },
            _request_timeout=settings.CRM_TIMEOUT_SECONDS,
        )

    try:
        deal = _call(lambda: create(properties))
    except FieldMissing as exc:
        missing = exc.fields
        kept = {k: v for k, v in properties.items() if k not in missing}
        deal = _call(lambda: create(kept))
    return Pushed(contact_id=contact_id, deal_id=str(deal.id), fields_missing=missing)


def _contact_for(client: Client, referral: ReferralOut) -> str:
    """Create the referred person, or reuse the contact HubSpot already has for the email."""
    properties = {
        "email": referral.email,
        "firstname": referral.first_name,
        "lastname": referral.last_name,
        "jobtitle": referral.title,
        "company": referral.company_name,
    }
    if referral.owner_id:
        properties["hubspot_owner_id"] = referral.owner_id
    body: dict[str, Any] = {"properties": properties, "associations": []}
    if referral.company_id:
        body["associations"] = [_association(referral.company_id, CONTACT_TO_COMPANY)]
    try:
        created = client.crm.contacts.basic_api.create(
            simple_public_object_input_for_create=body,
            _request_timeout=settings.CRM_TIMEOUT_SECONDS,
        )
    except ContactsApiException as exc:
        # Email is unique in HubSpot: 409 names the contact that already has it.
        found = _EXISTING_ID.search(str(_body(exc).get("message", "")))
        if exc.status == 409 and found:
            return found.group(1)
        raise _problem(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise RetryLater(f"HubSpot did not answer: {exc}") from exc
    return str(created.id)


def company_write(client: Client, external_id: str, advocacy: Advocacy) -> None:
    basic = client.crm.companies.basic_api
    _call(
        lambda: basic.update(
            external_id,
            {"properties": _advocacy_properties(advocacy)},
            _request_timeout=settings.CRM_TIMEOUT_SECONDS,
        ),
        record_id=external_id,
    )


def deal_write(client: Client, external_id: str, influence: Influence) -> None:
    basic = client.crm.deals.basic_api
    _call(
        lambda: basic.update(
            external_id,
            {"properties": _influence_properties(influence)},
            _request_timeout=settings.CRM_TIMEOUT_SECONDS,
        ),
        record_id=external_id,
    )


def companies_write(
    client: Client, items: Sequence[tuple[str, Advocacy]]
) -> dict[str, CrmProblem | None]:
    batch = client.crm.companies.batch_api
    return _batch_update(batch, [(i, _advocacy_properties(a)) for i, a in items])


def deals_write(
    client: Client, items: Sequence[tuple[str, Influence]]
) -> dict[str, CrmProblem | None]:
    batch = client.crm.deals.batch_api
    return _batch_update(batch, [(i, _influence_properties(f)) for i, f in items])


def _advocacy_properties(advocacy: Advocacy) -> dict[str, str]:
    return {
        COMPANY_ADVOCATES: str(advocacy.advocates),
        COMPANY_REFERENCES_GIVEN: str(advocacy.references_given),
        COMPANY_REFERRALS: str(advocacy.referrals),
        COMPANY_REFERRALS_WON: str(advocacy.referrals_won),
        # An empty string clears a HubSpot property.
        COMPANY_AMS: "" if advocacy.ams is None else str(advocacy.ams),
    }


def _influence_properties(influence: Influence) -> dict[str, str]:
    return {
        DEAL_REFERENCE_CALLS: str(influence.reference_calls),
        DEAL_REFERENCE_ADVOCATES: influence.advocates,
    }


def _batch_update(
    batch: Any, items: list[tuple[str, dict[str, str]]]
) -> dict[str, CrmProblem | None]:
    """One batch/update call; each item's outcome (see the module docstring).

    Whole-call problems (401, 429, 5xx, no answer) are raised as by the one-record writes.
    A 400 refuses every input alike (HubSpot validates the batch before writing any of
    it), so each item gets the same FieldMissing or CrmError rather than the call raising:
    the sync records it against each record, as it would have for one-record writes.
    """
    if len(items) > BATCH_SIZE:
        raise ValueError(f"HubSpot takes at most {BATCH_SIZE} records a batch")
    ids = [external_id for external_id, _ in items]
    body = {
        "inputs": [
            {"id": external_id, "properties": properties, "objectWriteTraceId": external_id}
            for external_id, properties in items
        ]
    }
    try:
        answer = batch.update(body, _request_timeout=settings.CRM_TIMEOUT_SECONDS)
    except _API_ERRORS as exc:
        problem = _problem(exc)
        if isinstance(problem, FieldMissing):
            return {i: FieldMissing(problem.fields, str(problem)) for i in ids}
        if isinstance(problem, CrmError):
            return {i: CrmError(str(problem)) for i in ids}
        raise problem from exc
    except urllib3.exceptions.HTTPError as exc:
        raise RetryLater(f"HubSpot did not answer: {exc}") from exc
    outcome: dict[str, CrmProblem | None] = dict.fromkeys(ids)
    written = {str(r.id) for r in answer.results or []}
    named: set[str] = set()
    unnamed: list[str] = []
    for error in getattr(answer, "errors", None) or []:
        context = error.context or {}
        targets = [
            str(t)
            for t in [*context.get("ids", []), *context.get("objectWriteTraceId", [])]
            if str(t) in outcome
        ]
        message = str(error.message or error.category or "refused")
        if not targets:
            unnamed.append(message)
        for target in dict.fromkeys(targets):
            named.add(target)
            outcome[target] = _item_problem(target, str(error.category or ""), message)
    # HubSpot lists each written record in `results`; one neither written nor named by an
    # error was not written either (its error could not be tied to it).
    for external_id in ids:
        if external_id not in written and external_id not in named:
            outcome[external_id] = CrmError(
                unnamed[0] if unnamed else "HubSpot did not report this record written"
            )
    return outcome


def _item_problem(external_id: str, category: str, message: str) -> CrmProblem:
    if category == "OBJECT_NOT_FOUND":
        return RecordGone(external_id, message)
    fields = _missing_properties(message)
    if fields:
        return FieldMissing(fields, message)
    return CrmError(message)


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }
