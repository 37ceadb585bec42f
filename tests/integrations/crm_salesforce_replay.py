"""Recorded Salesforce exchanges, registered on a ``responses.RequestsMock``, for tests
that drive integrations.crm.salesforce from above (the sync engine's).

The provider talks through simple-salesforce, which is built on ``requests``, so the
``responses`` library replays everything; no server runs. Each function takes the mock
(``rsps``), registers the answers of one scene, and returns nothing. Where each answer
comes from: tests/integrations/recordings/salesforce/README.md.

    with responses.RequestsMock() as rsps:
        replay_sync(rsps, run=1)
        page = provider.fetch(TOKENS, "owners", cursor="", page=None)

Scenes:

- ``replay_connect(rsps)``: the OAuth code exchange, answering ``TOKENS``.
- ``replay_sync(rsps, run=1|2|3)``: one full incremental sync, every object in
  ``OBJECTS`` order. Run 1 (cursor ``""`` everywhere): 1 owner, 2 companies over two
  pages (``nextRecordsUrl``), 2 contacts, 2 deals (``WON_DEAL_ID`` closed won,
  ``OPEN_DEAL_ID`` open). Run 2 (the cursors run 1 left, ``CURSORS``): nothing changed,
  every query empty. Run 3 (same cursors): only ``OPEN_DEAL_ID`` comes back, now Closed
  Won with ``RUN3_AMOUNT``; the recording's StageName, IsClosed, IsWon, Amount and
  SystemModstamp were changed for it, nothing else. Each query is matched on its exact
  SOQL, so a run asking with the wrong cursor gets ``ConnectionError`` from ``responses``.
- ``replay_push(rsps, existing_contact=False, missing_field=False)``: a referral push;
  the opportunity created has ``OPEN_DEAL_ID`` (so a push then ``run=3`` sees the
  referral's deal won). ``existing_contact``: the email is found (``EXISTING_CONTACT_ID``)
  and no Contact is created; else one is (``NEW_CONTACT_ID``). ``missing_field``: the
  first create is refused for ``Vouch_Advocate_Email__c``, the second succeeds.
- ``replay_company_write(rsps, outcome=...)`` / ``replay_deal_write(rsps, outcome=...)``:
  the PATCH of any Account / Opportunity id; ``outcome`` is ``"ok"`` (204),
  ``"field_missing"`` (400 INVALID_FIELD) or ``"gone"`` (404 ENTITY_IS_DELETED).
- ``replay_companies_write(rsps, outcome=...)`` / ``replay_deals_write(rsps, outcome=...)``:
  one sObject Collections ``PATCH composite/sobjects`` of the two Accounts
  (``COMPANY_IDS``) / the two Opportunities (``WON_DEAL_ID``, ``OPEN_DEAL_ID``), in that
  order: the answer is positional, so the request is matched on its records' ids and
  sobject type (a call with other ids or order gets ``ConnectionError``). ``outcome`` is
  ``"ok"`` (200, both written), ``"missing"`` (whole-call 400 INVALID_FIELD for
  ``Vouch_AMS__c`` / ``Vouch_Reference_Calls__c``) or ``"partial"`` (200; the second
  Account, ``COMPANY_IDS[1]``, / the first Opportunity, ``WON_DEAL_ID``, was deleted:
  ENTITY_IS_DELETED, the other written).

``responses`` raises for a registered answer never asked for unless the mock was made
with ``assert_all_requests_are_fired=False``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import responses
from django.conf import settings
from responses import matchers

from integrations.crm.base import Tokens
from integrations.crm.salesforce import soql

RECORDINGS = Path(__file__).parent / "recordings" / "salesforce"
TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
INSTANCE_URL = "https://na1.salesforce.com"


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


_TOKEN = recording("token_authorization_code")["response"]["body"]
TOKENS = Tokens(
    access_token=_TOKEN["access_token"],
    refresh_token=_TOKEN["refresh_token"],
    instance_url=_TOKEN["instance_url"],
    account_id="00Dx0000000BV7z",
)

_USER = recording("query_users")["response"]["body"]["records"][0]
OWNER_ID: str = _USER["Id"]
OWNER_EMAIL: str = _USER["Email"]
_ACCOUNTS = [
    recording("query_accounts_page1")["response"]["body"]["records"][0],
    recording("query_accounts_page2")["response"]["body"]["records"][0],
]
COMPANY_IDS: tuple[str, ...] = tuple(a["Id"] for a in _ACCOUNTS)
COMPANY_NAMES: tuple[str, ...] = tuple(a["Name"] for a in _ACCOUNTS)
COMPANY_DOMAINS = ("burlington.com", "edgecomm.com")
_CONTACTS = recording("query_contacts")["response"]["body"]["records"]
CONTACT_IDS: tuple[str, ...] = tuple(c["Id"] for c in _CONTACTS)
CONTACT_EMAILS: tuple[str, ...] = tuple(c["Email"] for c in _CONTACTS)
_DEALS = recording("query_opportunities")["response"]["body"]["records"]
WON_DEAL_ID: str = _DEALS[0]["Id"]
WON_DEAL_AMOUNT = Decimal("235000")
OPEN_DEAL_ID: str = _DEALS[1]["Id"]
OPEN_DEAL_STAGE: str = _DEALS[1]["StageName"]  # "Id. Decision Makers"
OPEN_DEAL_AMOUNT = Decimal("35000")
RUN3_AMOUNT = Decimal("42000")
EXISTING_CONTACT_ID: str = recording("query_contact_by_email")["response"]["body"]["records"][0][
    "Id"
]
NEW_CONTACT_ID: str = recording("contact_create_201")["response"]["body"]["id"]
# What run 1 leaves as each object's cursor (its newest SystemModstamp).
CURSORS = {
    "owners": _USER["SystemModstamp"],
    "companies": _ACCOUNTS[1]["SystemModstamp"],
    "contacts": _CONTACTS[1]["SystemModstamp"],
    "deals": _DEALS[1]["SystemModstamp"],
}
RUN3_DEALS_CURSOR: str = recording("query_opportunity_won")["response"]["body"]["records"][0][
    "SystemModstamp"
]


def api_url(path: str) -> str:
    return f"{INSTANCE_URL}/services/data/v{settings.SALESFORCE_API_VERSION}/{path}"


def answer(
    rsps: responses.RequestsMock,
    method: str,
    url: str | re.Pattern[str],
    name: str,
    *,
    match: tuple[Any, ...] = (),
) -> None:
    """Answer ``method url`` with the recorded response ``name``."""
    recorded = recording(name)["response"]
    body = recorded["body"]
    rsps.add(
        method,
        url,
        status=recorded["status"],
        headers={k: v for k, v in recorded["headers"].items() if k.lower() != "content-type"},
        body=json.dumps(body) if body is not None else "",
        content_type="application/json;charset=UTF-8" if body is not None else None,
        match=match,
    )


def answer_query(rsps: responses.RequestsMock, query: str, name: str) -> None:
    answer(
        rsps, "GET", api_url("query/"), name, match=(matchers.query_param_matcher({"q": query}),)
    )


def replay_connect(rsps: responses.RequestsMock) -> None:
    answer(rsps, "POST", TOKEN_URL, "token_authorization_code")


def replay_sync(rsps: responses.RequestsMock, *, run: int) -> None:
    if run == 1:
        answer_query(rsps, soql("owners", ""), "query_users")
        answer_query(rsps, soql("companies", ""), "query_accounts_page1")
        answer(rsps, "GET", api_url("query/01gD0000002HU6KIAW-2000"), "query_accounts_page2")
        answer_query(rsps, soql("contacts", ""), "query_contacts")
        answer_query(rsps, soql("deals", ""), "query_opportunities")
    elif run in (2, 3):
        for object_name, cursor in CURSORS.items():
            won = run == 3 and object_name == "deals"
            answer_query(
                rsps, soql(object_name, cursor), "query_opportunity_won" if won else "query_empty"
            )
    else:
        raise ValueError(f"No recorded run {run}")


def replay_push(
    rsps: responses.RequestsMock, *, existing_contact: bool = False, missing_field: bool = False
) -> None:
    rsps.add(
        "GET",
        api_url("query/"),
        status=200,
        body=json.dumps(
            recording("query_contact_by_email" if existing_contact else "query_empty")["response"][
                "body"
            ]
        ),
        content_type="application/json;charset=UTF-8",
    )
    if not existing_contact:
        answer(rsps, "POST", api_url("sobjects/Contact/"), "contact_create_201")
    if missing_field:
        answer(
            rsps, "POST", api_url("sobjects/Opportunity/"), "opportunity_create_400_no_such_column"
        )
    answer(rsps, "POST", api_url("sobjects/Opportunity/"), "opportunity_create_201")
    answer(
        rsps,
        "POST",
        api_url("sobjects/OpportunityContactRole/"),
        "opportunity_contact_role_create_201",
    )


_OUTCOMES = {"ok": "update_204", "gone": "entity_is_deleted_404"}


def _replay_write(rsps: responses.RequestsMock, sobject: str, outcome: str, missing: str) -> None:
    url = re.compile(re.escape(api_url(f"sobjects/{sobject}/")) + r"\w+$")
    if outcome == "field_missing":
        answer(rsps, "PATCH", url, missing)
    else:
        answer(rsps, "PATCH", url, _OUTCOMES[outcome])


def replay_company_write(rsps: responses.RequestsMock, *, outcome: str = "ok") -> None:
    _replay_write(rsps, "Account", outcome, "account_update_400_no_such_column")


def replay_deal_write(rsps: responses.RequestsMock, *, outcome: str = "ok") -> None:
    _replay_write(rsps, "Opportunity", outcome, "opportunity_update_400_no_such_column")


_COLLECTION_OUTCOMES = {
    "ok": "collection_update_200",
    "missing": "collection_update_400_no_such_column",
    "partial": "collection_update_200_partial",
}


def _records_matcher(sobject: str, ids: tuple[str, ...]) -> Any:
    """Match a collections PATCH on the ids it carries, in order, and their sobject type:
    the recorded answer is one result per record by position."""

    def match(request: Any) -> tuple[bool, str]:
        records = json.loads(request.body or b"{}").get("records", [])
        sent = tuple(r.get("id") for r in records)
        types = {r.get("attributes", {}).get("type") for r in records}
        if sent == ids and types == {sobject}:
            return True, ""
        return False, f"records {sent} of {types} are not the recorded {ids} of {sobject}"

    return match


def _replay_collection(
    rsps: responses.RequestsMock, sobject: str, plural: str, ids: tuple[str, ...], outcome: str
) -> None:
    if outcome not in _COLLECTION_OUTCOMES:
        raise ValueError(f"No recorded outcome {outcome!r}")
    answer(
        rsps,
        "PATCH",
        api_url("composite/sobjects"),
        f"{plural}_{_COLLECTION_OUTCOMES[outcome]}",
        match=(_records_matcher(sobject, ids),),
    )


def replay_companies_write(rsps: responses.RequestsMock, *, outcome: str = "ok") -> None:
    _replay_collection(rsps, "Account", "accounts", COMPANY_IDS, outcome)


def replay_deals_write(rsps: responses.RequestsMock, *, outcome: str = "ok") -> None:
    _replay_collection(rsps, "Opportunity", "opportunities", (WON_DEAL_ID, OPEN_DEAL_ID), outcome)
