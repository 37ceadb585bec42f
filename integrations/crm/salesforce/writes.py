"""Writing to Salesforce: the referral's contact and opportunity, and the advocacy and
reference-call influence fields.

A referral becomes a Contact (an existing one with the same email is reused) and an
Opportunity in the first default stage, owned by the rep, tied together by an
OpportunityContactRole so the person shows on the opportunity. Advocacy and reference-call
influence go to the custom fields below, which the Salesforce admin creates (docs/crm.md);
an org without them still gets the referral, minus the fields. Many accounts or
opportunities are written in one request through sObject Collections
(``PATCH composite/sobjects``, at most 200 records, ``allOrNone`` false so one bad record
does not hold back the others).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simple_salesforce import Salesforce, format_soql

from integrations.crm.base import (
    Advocacy,
    CrmProblem,
    FieldMissing,
    Influence,
    Pushed,
    ReferralOut,
    Tokens,
)
from integrations.crm.salesforce import api
from integrations.crm.salesforce.records import as_text

log = logging.getLogger(__name__)

# Custom fields the Salesforce admin creates (docs/crm.md lists their types).
# On Account: what the company's advocates did.
ACCOUNT_ADVOCATES = "Vouch_Advocates__c"  # Number(6, 0): advocates at the company
ACCOUNT_REFERENCES_GIVEN = "Vouch_References_Given__c"  # Number(6, 0): reference calls
ACCOUNT_REFERRALS = "Vouch_Referrals__c"  # Number(6, 0): referrals made
ACCOUNT_REFERRALS_WON = "Vouch_Referrals_Won__c"  # Number(6, 0): of them, won
ACCOUNT_AMS = "Vouch_AMS__c"  # Number(3, 0): best Advocate Marketing Score, blank if none
# On Opportunity: how reference calls helped it, and who referred it.
OPPORTUNITY_REFERENCE_CALLS = "Vouch_Reference_Calls__c"  # Number(4, 0)
OPPORTUNITY_REFERENCE_ADVOCATES = "Vouch_Reference_Advocates__c"  # Text(255): names
OPPORTUNITY_ADVOCATE_EMAIL = "Vouch_Advocate_Email__c"  # Email: the referring advocate
OPPORTUNITY_REFERRAL_ID = "Vouch_Referral_Id__c"  # Text(20): Vouch's referral id

# Standard picklist values (Salesforce's default LeadSource and StageName lists).
LEAD_SOURCE = "External Referral"
FIRST_STAGE = "Prospecting"
# A referral's opportunity is expected to close within a quarter; CloseDate is required.
CLOSE_IN_DAYS = 90


def referral_push(tokens: Tokens, referral: ReferralOut) -> Pushed:
    client, session = api.client(tokens)
    attribution = (
        f"Referred by {referral.advocate_name} ({referral.advocate_email}) through Vouch."
        + (f"\n\n{referral.note}" if referral.note else "")
    )
    with api.translated(session):
        found = client.query(
            format_soql(
                "SELECT Id, AccountId FROM Contact WHERE Email = {} ORDER BY CreatedDate LIMIT 1",
                referral.email,
            )
        )["records"]
    if found:
        contact_id = str(found[0]["Id"])
        account_id = referral.company_id or as_text(found[0].get("AccountId"))
    else:
        contact: dict[str, Any] = {
            "FirstName": referral.first_name,
            # LastName is the one name Salesforce requires.
            "LastName": referral.last_name or referral.email,
            "Email": referral.email,
            "Title": referral.title,
            "LeadSource": LEAD_SOURCE,
            "Description": attribution,
        }
        if referral.company_id:
            contact["AccountId"] = referral.company_id
        if referral.owner_id:
            contact["OwnerId"] = referral.owner_id
        with api.translated(session):
            contact_id = str(api.sobject(client, "Contact").create(contact)["id"])
        account_id = referral.company_id
    who = f"{referral.first_name} {referral.last_name}".strip() or referral.email
    opportunity: dict[str, Any] = {
        "Name": f"{referral.company_name or who} (referral)",
        "StageName": FIRST_STAGE,
        "CloseDate": (_today() + timedelta(days=CLOSE_IN_DAYS)).isoformat(),
        "LeadSource": LEAD_SOURCE,
        "Description": attribution,
        OPPORTUNITY_ADVOCATE_EMAIL: referral.advocate_email,
        OPPORTUNITY_REFERRAL_ID: str(referral.referral_id),
    }
    if referral.owner_id:
        opportunity["OwnerId"] = referral.owner_id
    if account_id:
        opportunity["AccountId"] = account_id
    deal_id, missing = _create_without_missing(client, session, "Opportunity", opportunity)
    # The opportunity exists now: a failure past this point must not make the sync
    # push the referral again (a second opportunity), so tying the contact to it is
    # best effort.
    try:
        with api.translated(session):
            api.sobject(client, "OpportunityContactRole").create(
                {"OpportunityId": deal_id, "ContactId": contact_id, "IsPrimary": True}
            )
    except CrmProblem as problem:
        log.warning("Opportunity %s made without its contact role: %s", deal_id, problem)
    return Pushed(contact_id=contact_id, deal_id=deal_id, fields_missing=missing)


def _create_without_missing(
    client: Salesforce, session: api.Session, sobject: str, values: dict[str, Any]
) -> tuple[str, tuple[str, ...]]:
    """Create; each custom field Salesforce calls unknown is dropped and the create
    repeated (it names one per answer), so the referral lands without it."""
    missing: list[str] = []
    while True:
        try:
            with api.translated(session):
                return str(api.sobject(client, sobject).create(values)["id"]), tuple(missing)
        except FieldMissing as problem:
            unknown = [name for name in problem.fields if name.endswith("__c") and name in values]
            if not unknown:
                raise
            for name in unknown:
                values.pop(name)
                missing.append(name)


def update(tokens: Tokens, sobject: str, external_id: str, values: dict[str, Any]) -> None:
    client, session = api.client(tokens)
    with api.translated(session, record_id=external_id):
        api.sobject(client, sobject).update(external_id, values)


def update_many(
    tokens: Tokens,
    sobject: str,
    items: Sequence[tuple[str, dict[str, Any]]],
    *,
    batch_size: int,
) -> dict[str, CrmProblem | None]:
    """One sObject Collections PATCH of ``items``; each record's problem, by its id.

    ``allOrNone`` is false: a deleted record must not stop the others being written.
    The answer is one SaveResult per record *in the order sent*, and a failed one
    carries no ``id`` (the guide's own example), so results are matched by position.

    A custom field the admin has not created is no one record's fault: the body does
    not map onto the sobject, and Salesforce answers a request that is not well formed
    with a whole-call 400 (here INVALID_FIELD, as the one-record PATCH), writing nothing.
    Every record of a call is of one sobject with the same fields, so every item gets
    that FieldMissing (not raised: the caller gets its answer for each item, as the
    protocol says, and the one-record write reports it per record too). An
    INVALID_FIELD inside one SaveResult, should Salesforce ever answer so, is that
    item's FieldMissing.
    """
    if not items:
        return {}
    if len(items) > batch_size:
        raise ValueError(f"At most {batch_size} records per call, not {len(items)}")
    client, session = api.client(tokens)
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": sobject}, "id": external_id, **values}
            for external_id, values in items
        ],
    }
    try:
        with api.translated(session):
            answer = client.restful("composite/sobjects", method="PATCH", json=body)
    except FieldMissing as problem:
        return {external_id: FieldMissing(problem.fields, str(problem)) for external_id, _ in items}
    results = answer if isinstance(answer, list) else []
    return {
        external_id: api.saved(external_id, results[index] if index < len(results) else None)
        for index, (external_id, _) in enumerate(items)
    }


def account_fields(advocacy: Advocacy) -> dict[str, Any]:
    return {
        ACCOUNT_ADVOCATES: advocacy.advocates,
        ACCOUNT_REFERENCES_GIVEN: advocacy.references_given,
        ACCOUNT_REFERRALS: advocacy.referrals,
        ACCOUNT_REFERRALS_WON: advocacy.referrals_won,
        ACCOUNT_AMS: advocacy.ams,
    }


def opportunity_fields(influence: Influence) -> dict[str, Any]:
    return {
        OPPORTUNITY_REFERENCE_CALLS: influence.reference_calls,
        # Text(255): a long list of names is cut rather than refused.
        OPPORTUNITY_REFERENCE_ADVOCATES: influence.advocates[:255],
    }


def _today() -> date:
    return datetime.now(tz=UTC).date()
