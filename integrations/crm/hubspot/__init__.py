"""HubSpot as a CRM provider (integrations.crm.base.Provider), on hubspot-api-client.

HubSpot speaks OAuth 2.0 with short-lived access tokens (``expires_in``, 30 minutes) and
long-lived refresh tokens; the connected portal (hub) id comes from the token's metadata.

Reading is incremental through the CRM search API: records whose last-modified stamp is
at or after the cursor, oldest first, paged by ``after``. Search refuses to page past
10,000 results for one query, so when ``after`` reaches that window the next page is a
new search starting at the newest stamp seen (records sharing that stamp come again; the
sync's upserts make that harmless). Owners have no modified filter: all of them, each run.

The SDK sends HTTP with urllib3, built on ``settings.HUBSPOT_API_URL`` (the SDK
configuration's ``host``), which is how the tests point it at a loopback server.

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

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import urllib3
from django.conf import settings
from hubspot import Client
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.deals.exceptions import ApiException as DealsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
from hubspot.oauth.exceptions import ApiException as OAuthApiException

from integrations.crm.base import (
    Advocacy,
    AuthRevoked,
    Company,
    Contact,
    CrmError,
    CrmProblem,
    Deal,
    FieldMissing,
    Influence,
    Owner,
    Page,
    Pushed,
    RecordGone,
    ReferralOut,
    RetryLater,
    TokenExpired,
    Tokens,
)

AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
SCOPES = (
    "oauth",
    "crm.objects.owners.read",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
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
PRIMARY_DEAL_TO_COMPANY = 5

PAGE_SIZE = 100
# HubSpot's batch update takes at most 100 inputs (companies and deals).
BATCH_SIZE = 100
# HubSpot's search refuses `after` beyond 10,000 results for one query.
SEARCH_WINDOW = 10_000

PROPERTIES = {
    "companies": [
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "hubspot_owner_id",
        "hs_lastmodifieddate",
    ],
    "contacts": [
        "email",
        "firstname",
        "lastname",
        "jobtitle",
        "associatedcompanyid",
        "hubspot_owner_id",
        "lastmodifieddate",
    ],
    "deals": [
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "closedate",
        "hs_is_closed",
        "hs_is_closed_won",
        "hubspot_owner_id",
        "hs_lastmodifieddate",
    ],
}
# Contacts name their stamp differently from every other object.
MODIFIED = {
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}

# The default sales pipeline's stages and the labels HubSpot shows for them.
STAGE_LABELS = {
    "appointmentscheduled": "Appointment Scheduled",
    "qualifiedtobuy": "Qualified To Buy",
    "presentationscheduled": "Presentation Scheduled",
    "decisionmakerboughtin": "Decision Maker Bought-In",
    "contractsent": "Contract Sent",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}

_API_ERRORS = (
    CompaniesApiException,
    ContactsApiException,
    DealsApiException,
    OwnersApiException,
    AssociationsApiException,
    OAuthApiException,
)
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")

T = TypeVar("T")


def clock() -> datetime:
    """Now, as a function the tests can replace."""
    return datetime.now(UTC)


class HubSpot:
    name = "hubspot"
    label = "HubSpot"
    batch_size = BATCH_SIZE

    def __init__(self) -> None:
        self.stage_map: dict[str, str] = {
            "appointmentscheduled": "submitted",
            "qualifiedtobuy": "qualified",
            "presentationscheduled": "opportunity",
            "decisionmakerboughtin": "opportunity",
            "contractsent": "opportunity",
        }

    # --- OAuth ----------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "client_id": settings.HUBSPOT_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        answer = self._token(grant_type="authorization_code", code=code, redirect_uri=redirect_uri)
        info = _call(
            lambda: _client(answer.access_token).oauth.access_tokens_api.get(answer.access_token)
        )
        return _tokens(answer, account_id=str(info.hub_id), account_name=info.hub_domain or "")

    def refresh(self, tokens: Tokens) -> Tokens:
        answer = self._token(grant_type="refresh_token", refresh_token=tokens.refresh_token)
        return _tokens(answer, account_id=tokens.account_id, account_name=tokens.account_name)

    def _token(self, **grant: str) -> Any:
        try:
            return _client("").oauth.tokens_api.create(
                client_id=settings.HUBSPOT_CLIENT_ID,
                client_secret=settings.HUBSPOT_CLIENT_SECRET,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
                **grant,
            )
        except OAuthApiException as exc:
            body = _body(exc)
            # HubSpot keeps its own `status` beside RFC 6749's `error` (its OAuth docs).
            if exc.status == 400 and (
                body.get("status") == "BAD_REFRESH_TOKEN" or body.get("error") == "invalid_grant"
            ):
                raise AuthRevoked(str(body.get("message") or "refresh token refused")) from exc
            raise _problem(exc) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise RetryLater(f"HubSpot did not answer: {exc}") from exc

    # --- Reading --------------------------------------------------------------------

    def fetch(self, tokens: Tokens, object_name: str, *, cursor: str, page: str | None) -> Page:
        client = _client(tokens.access_token)
        if object_name == "owners":
            return self._owners(client, cursor=cursor, page=page)
        if object_name not in PROPERTIES:
            raise ValueError(f"HubSpot has no {object_name!r} to sync")
        since, after = _page_token(page, cursor)
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": MODIFIED[object_name],
                            "operator": "GTE",
                            "value": str(since),
                        }
                    ]
                }
            ]
            if since
            else [],
            "sorts": [{"propertyName": MODIFIED[object_name], "direction": "ASCENDING"}],
            "properties": PROPERTIES[object_name],
            "limit": PAGE_SIZE,
        }
        if after:
            body["after"] = after
        search = getattr(client.crm, object_name).search_api
        answer = _call(
            lambda: search.do_search(
                public_object_search_request=body, _request_timeout=settings.CRM_TIMEOUT_SECONDS
            )
        )
        rows = list(answer.results or [])
        companies = self._deal_companies(client, rows) if object_name == "deals" else {}
        records = [_record(object_name, row, companies) for row in rows]
        stamps = [r.modified_at for r in records if r.modified_at]
        newest = max(stamps) if stamps else None
        new_cursor = cursor
        if newest and (not cursor or newest > _parse_stamp(cursor)):
            new_cursor = _stamp(newest)
        next_after = answer.paging.next.after if answer.paging and answer.paging.next else None
        next_page: str | None = None
        if next_after:
            if int(next_after) + PAGE_SIZE > SEARCH_WINDOW and newest:
                next_page = f"{_millis(newest)}:"
            else:
                next_page = f"{since}:{next_after}"
        return Page(records=records, cursor=new_cursor, next_page=next_page)

    def _owners(self, client: Client, *, cursor: str, page: str | None) -> Page:
        owners_api = client.crm.owners.owners_api
        answer = _call(
            lambda: owners_api.get_page(
                limit=PAGE_SIZE,
                archived=False,
                **({"after": page} if page else {}),
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )
        )
        records = [
            Owner(
                external_id=str(o.id),
                email=o.email or "",
                first_name=o.first_name or "",
                last_name=o.last_name or "",
                active=not o.archived,
            )
            for o in answer.results or []
        ]
        next_after = answer.paging.next.after if answer.paging and answer.paging.next else None
        return Page(records=records, cursor=cursor, next_page=next_after)

    def _deal_companies(self, client: Client, rows: list[Any]) -> dict[str, str]:
        """Each deal's company: the primary one, else the first (search has no associations)."""
        if not rows:
            return {}
        batch = client.crm.associations.v4.batch_api
        answer = _call(
            lambda: batch.get_page(
                from_object_type="deals",
                to_object_type="companies",
                batch_input_public_fetch_associations_batch_request={
                    "inputs": [{"id": str(r.id)} for r in rows]
                },
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )
        )
        found: dict[str, str] = {}
        for result in answer.results or []:
            targets = list(result.to or [])
            primary = [
                t
                for t in targets
                if any(a.type_id == PRIMARY_DEAL_TO_COMPANY for a in t.association_types or [])
            ]
            chosen = (primary or targets)[:1]
            if chosen:
                found[str(result._from.id)] = str(chosen[0].to_object_id)
        return found

    # --- Writing --------------------------------------------------------------------

    def referral_push(self, tokens: Tokens, referral: ReferralOut) -> Pushed:
        client = _client(tokens.access_token)
        contact_id = self._contact_for(client, referral)
        advocate = f"{referral.advocate_name} <{referral.advocate_email}>"
        properties = {
            "dealname": f"{referral.company_name or referral.last_name}: referral from "
            f"{referral.advocate_name}",
            "pipeline": REFERRAL_PIPELINE,
            "dealstage": REFERRAL_STAGE,
            # The standard field says who referred, even where the custom ones are missing.
            "description": f"Referred by {advocate} through Vouch "
            f"(referral {referral.referral_id})."
            + (f"\n\n{referral.note}" if referral.note else ""),
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

    def _contact_for(self, client: Client, referral: ReferralOut) -> str:
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

    def company_write(self, tokens: Tokens, external_id: str, advocacy: Advocacy) -> None:
        basic = _client(tokens.access_token).crm.companies.basic_api
        _call(
            lambda: basic.update(
                external_id,
                {"properties": _advocacy_properties(advocacy)},
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            ),
            record_id=external_id,
        )

    def deal_write(self, tokens: Tokens, external_id: str, influence: Influence) -> None:
        basic = _client(tokens.access_token).crm.deals.basic_api
        _call(
            lambda: basic.update(
                external_id,
                {"properties": _influence_properties(influence)},
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            ),
            record_id=external_id,
        )

    def companies_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Advocacy]]
    ) -> dict[str, CrmProblem | None]:
        batch = _client(tokens.access_token).crm.companies.batch_api
        return _batch_update(batch, [(i, _advocacy_properties(a)) for i, a in items])

    def deals_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Influence]]
    ) -> dict[str, CrmProblem | None]:
        batch = _client(tokens.access_token).crm.deals.batch_api
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


provider = HubSpot()


def get_provider() -> HubSpot:
    return provider


# --- HTTP and errors ----------------------------------------------------------------


def _client(access_token: str) -> Client:
    # No urllib3 retries: a dead HubSpot fails the call at once and the sync's task retries
    # with backoff (RetryLater) instead of this worker waiting.
    return Client.create(
        access_token=access_token or None,
        host=settings.HUBSPOT_API_URL.rstrip("/"),
        retry=urllib3.Retry(total=0, redirect=0, raise_on_status=False),
    )


def _call(do: Callable[[], T], *, record_id: str = "") -> T:
    try:
        return do()
    except _API_ERRORS as exc:
        raise _problem(exc, record_id=record_id) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise RetryLater(f"HubSpot did not answer: {exc}") from exc


def _problem(exc: Any, *, record_id: str = "") -> Exception:
    """HubSpot's answer as the interface's exception (integrations.crm.base)."""
    status = int(exc.status or 0)
    body = _body(exc)
    message = str(body.get("message") or exc.reason or status)
    if status == 401:
        return TokenExpired(message)
    if status == 429:
        return RetryLater(message, seconds=_retry_after(exc.headers))
    if status >= 500 or status == 0:
        return RetryLater(message)
    if status == 404 and record_id:
        return RecordGone(record_id, message)
    if status == 400:
        fields = _missing_properties(message)
        if fields:
            return FieldMissing(fields, message)
    return CrmError(message)


def _body(exc: Any) -> dict[str, Any]:
    raw = exc.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {"message": raw}
    return parsed if isinstance(parsed, dict) else {}


def _retry_after(headers: Any) -> int | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(0, int(float(value)))
            except ValueError:
                return None
    return None


def _missing_properties(message: str) -> tuple[str, ...]:
    """Names HubSpot refused as unknown, from 'Property values were not valid: [...]'."""
    start = message.find("[")
    try:
        problems = json.loads(message[start:]) if start >= 0 else []
    except ValueError:
        problems = []
    names = [
        str(p.get("name"))
        for p in problems
        if isinstance(p, dict) and p.get("error") == "PROPERTY_DOESNT_EXIST"
    ]
    return tuple(dict.fromkeys(names))


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def _tokens(answer: Any, *, account_id: str, account_name: str) -> Tokens:
    return Tokens(
        access_token=answer.access_token,
        refresh_token=answer.refresh_token or "",
        expires_at=clock() + timedelta(seconds=int(answer.expires_in)),
        account_id=account_id,
        account_name=account_name,
    )


# --- Cursors and normalization ------------------------------------------------------


def _page_token(page: str | None, cursor: str) -> tuple[int, str]:
    """(lower bound in epoch milliseconds, search `after`) for this page.

    A page token carries its own lower bound so a run keeps asking the same question
    even after the sync has stored a newer cursor between pages.
    """
    if page:
        since, _, after = page.partition(":")
        return int(since or 0), after
    return (_millis(_parse_stamp(cursor)) if cursor else 0), ""


def _parse_stamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return _parse_stamp(str(value))


def _day(value: Any) -> date | None:
    moment = _when(value)
    return moment.date() if moment else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if _text(value) else None
    except InvalidOperation:
        return None


def _integer(value: Any) -> int | None:
    amount = _amount(value)
    return int(amount) if amount is not None else None


def bare_domain(value: str) -> str:
    """'https://www.Acme.com/about' → 'acme.com' (how Vouch matches companies)."""
    text = _text(value).lower()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


def _record(object_name: str, row: Any, companies: dict[str, str]) -> Company | Contact | Deal:
    p = row.properties or {}
    modified = _when(p.get(MODIFIED[object_name])) or _when(row.updated_at)
    if object_name == "companies":
        return Company(
            external_id=str(row.id),
            name=_text(p.get("name")),
            domain=bare_domain(_text(p.get("domain"))),
            industry=_text(p.get("industry")),
            employees=_integer(p.get("numberofemployees")),
            owner_id=_text(p.get("hubspot_owner_id")),
            modified_at=modified,
        )
    if object_name == "contacts":
        return Contact(
            external_id=str(row.id),
            email=_text(p.get("email")).lower(),
            first_name=_text(p.get("firstname")),
            last_name=_text(p.get("lastname")),
            title=_text(p.get("jobtitle")),
            company_id=_text(p.get("associatedcompanyid")),
            owner_id=_text(p.get("hubspot_owner_id")),
            modified_at=modified,
        )
    stage = _text(p.get("dealstage"))
    return Deal(
        external_id=str(row.id),
        name=_text(p.get("dealname")),
        amount=_amount(p.get("amount")),
        stage=stage,
        stage_label=STAGE_LABELS.get(stage, stage),
        is_closed=_text(p.get("hs_is_closed")) == "true",
        is_won=_text(p.get("hs_is_closed_won")) == "true",
        close_date=_day(p.get("closedate")),
        company_id=companies.get(str(row.id), ""),
        owner_id=_text(p.get("hubspot_owner_id")),
        modified_at=modified,
    )
