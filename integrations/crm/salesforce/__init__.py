"""Salesforce, spoken through simple-salesforce (integrations.crm.base.Provider).

What it reads, incrementally by ``SystemModstamp`` (changes a person or an automation
makes both move it, unlike ``LastModifiedDate``), oldest first, ``Id`` breaking ties:
User (standard users only: portal and automated users own nothing a rep works),
Account, Contact and Opportunity. A page is one answer of the query resource; the
rest of the result is fetched through its ``nextRecordsUrl`` (``query_more``).

What it writes: a referral becomes a Contact (an existing one with the same email is
reused) and an Opportunity in the first default stage, owned by the rep, tied together
by an OpportunityContactRole so the person shows on the opportunity. Advocacy and
reference-call influence go to the custom fields below, which the Salesforce admin
creates (docs/crm.md); an org without them still gets the referral, minus the fields.
Many accounts or opportunities are written in one request through sObject Collections
(``PATCH composite/sobjects``, at most ``batch_size`` = 200 records, ``allOrNone`` false
so one bad record does not hold back the others).

Connections: the OAuth 2.0 web-server flow (a manager consents), or the JWT bearer flow
for an integration user (``jwt_connect``). Salesforce's token answer has no
``expires_in``: a 401 ``INVALID_SESSION_ID`` is how the sync learns to refresh.

Salesforce answers an exhausted daily API allowance with 403 ``REQUEST_LIMIT_EXCEEDED``,
not 429: both become ``RetryLater`` here.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from simple_salesforce import Salesforce, SFType, format_soql
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

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

# The columns read per object, and the WHERE a User query adds.
_QUERIES: dict[str, tuple[str, str, str]] = {
    "owners": (
        "User",
        "Id, Email, FirstName, LastName, IsActive, SystemModstamp",
        "UserType = 'Standard'",
    ),
    "companies": (
        "Account",
        "Id, Name, Website, Industry, NumberOfEmployees, OwnerId, SystemModstamp",
        "",
    ),
    "contacts": (
        "Contact",
        "Id, Email, FirstName, LastName, Title, AccountId, OwnerId, SystemModstamp",
        "",
    ),
    "deals": (
        "Opportunity",
        "Id, Name, Amount, StageName, IsClosed, IsWon, CloseDate, AccountId, OwnerId,"
        " SystemModstamp",
        "",
    ),
}

# The REST API's datetime format ("2020-04-23T17:02:18.000+0000"); SOQL literals want a
# colon-less offset to be "Z" instead, at second precision (Salesforce stores seconds).
_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"
_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)'")
_TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
# A record's own refusals that mean it is no longer there (a 404 of the one-record PATCH,
# a SaveResult error of a collection).
_GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND"})


def stamp_parse(value: str) -> datetime:
    """A SystemModstamp (or a cursor, which is one) as an aware datetime."""
    return datetime.strptime(value, _STAMP_FORMAT)


def soql(object_name: str, cursor: str) -> str:
    """The incremental query for one object: what changed after ``cursor``, oldest first.

    ``>`` and not ``>=``: stamps have whole seconds, so the newest record already applied
    is not read again on every run; two records changed in the same second on either side
    of a page boundary are both read, because the cursor only moves per page applied.
    """
    sobject, columns, where = _QUERIES[object_name]
    conditions = [where] if where else []
    if cursor:
        literal = stamp_parse(cursor).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        conditions.append(f"SystemModstamp > {literal}")
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    # S608: every part is a constant of this module or a datetime it formatted itself.
    return f"SELECT {columns} FROM {sobject}{clause} ORDER BY SystemModstamp, Id"  # noqa: S608


def domain_from_website(website: str | None) -> str:
    """Account.Website is free text ("www.burlington.com", "http://edgecomm.com/"): the
    bare lower-case host, which is what Vouch matches companies on."""
    text = (website or "").strip().lower()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _owner(record: Mapping[str, Any]) -> Owner:
    return Owner(
        external_id=record["Id"],
        email=_text(record.get("Email")).lower(),
        first_name=_text(record.get("FirstName")),
        last_name=_text(record.get("LastName")),
        active=bool(record.get("IsActive", True)),
    )


def _company(record: Mapping[str, Any]) -> Company:
    employees = record.get("NumberOfEmployees")
    return Company(
        external_id=record["Id"],
        name=_text(record.get("Name")),
        domain=domain_from_website(record.get("Website")),
        industry=_text(record.get("Industry")),
        employees=int(employees) if employees is not None else None,
        owner_id=_text(record.get("OwnerId")),
        modified_at=stamp_parse(record["SystemModstamp"]),
    )


def _contact(record: Mapping[str, Any]) -> Contact:
    return Contact(
        external_id=record["Id"],
        email=_text(record.get("Email")).lower(),
        first_name=_text(record.get("FirstName")),
        last_name=_text(record.get("LastName")),
        title=_text(record.get("Title")),
        company_id=_text(record.get("AccountId")),
        owner_id=_text(record.get("OwnerId")),
        modified_at=stamp_parse(record["SystemModstamp"]),
    )


def _deal(record: Mapping[str, Any]) -> Deal:
    amount = record.get("Amount")
    close = record.get("CloseDate")
    return Deal(
        external_id=record["Id"],
        name=_text(record.get("Name")),
        # parse_float=Decimal already gives 235000.0 as Decimal; a whole number arrives
        # as int, and Decimal(str(...)) keeps either exact.
        amount=Decimal(str(amount)) if amount is not None else None,
        stage=_text(record.get("StageName")),
        # StageName is the label a person reads too (the API name equals the label for
        # the standard stages; a translated org shows the master label either way).
        stage_label=_text(record.get("StageName")),
        is_closed=bool(record.get("IsClosed")),
        is_won=bool(record.get("IsWon")),
        close_date=date.fromisoformat(close) if close else None,
        company_id=_text(record.get("AccountId")),
        owner_id=_text(record.get("OwnerId")),
        modified_at=stamp_parse(record["SystemModstamp"]),
    )


_NORMALIZE: dict[str, Callable[[Mapping[str, Any]], Owner | Company | Contact | Deal]] = {
    "owners": _owner,
    "companies": _company,
    "contacts": _contact,
    "deals": _deal,
}


class _Session(requests.Session):
    """simple-salesforce's calls take no timeout of their own: give each one ours, and
    keep the last answer, whose headers (Retry-After) its exceptions do not carry."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.last_response: requests.Response | None = None

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        self.last_response = None
        response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        return response


def _errors(content: Any) -> list[dict[str, Any]]:
    """Salesforce's error body is a list of {"message", "errorCode"[, "fields"]}."""
    if isinstance(content, list):
        return [item for item in content if isinstance(item, dict)]
    if isinstance(content, dict):
        return [content]
    return []


def _codes(content: Any) -> set[str]:
    return {str(item.get("errorCode", "")) for item in _errors(content)}


def _message(content: Any) -> str:
    errors = _errors(content)
    if errors:
        return "; ".join(f"{e.get('errorCode', '')}: {e.get('message', '')}" for e in errors)
    return str(content)[:500]


def _retry_after(session: _Session) -> int | None:
    response = session.last_response
    value = response.headers.get("Retry-After", "") if response is not None else ""
    return int(value) if value.strip().isdigit() else None


def _missing_columns(errors: list[dict[str, Any]], *, code_key: str) -> list[str]:
    """The columns an INVALID_FIELD error calls unknown ("No such column 'X' on sobject of
    type Y"). A REST error body names its code ``errorCode``, a SaveResult ``statusCode``."""
    return [
        match.group(1)
        for item in errors
        if item.get(code_key) == "INVALID_FIELD"
        for match in [_NO_SUCH_COLUMN.search(str(item.get("message", "")))]
        if match
    ]


def _saved(external_id: str, result: Any) -> CrmProblem | None:
    """One SaveResult of a collection (``{"id", "success", "errors": [{"statusCode",
    "message", "fields"}]}``) as the item's problem, None when it was written."""
    if not isinstance(result, dict):
        return CrmError(f"Salesforce gave no result for {external_id}")
    if result.get("success"):
        return None
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    message = "; ".join(f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in errors)
    if {str(e.get("statusCode", "")) for e in errors} & _GONE_CODES:
        return RecordGone(external_id, message)
    missing = _missing_columns(errors, code_key="statusCode")
    if missing:
        return FieldMissing(missing, message)
    return CrmError(message or f"Salesforce did not write {external_id}")


@contextmanager
def _translated(session: _Session, record_id: str = "") -> Iterator[None]:
    """simple-salesforce's exceptions (and requests' own) as base.py's problems."""
    try:
        yield
    except SalesforceExpiredSession as error:
        raise TokenExpired(_message(error.content)) from error
    except SalesforceRefusedRequest as error:
        if "REQUEST_LIMIT_EXCEEDED" in _codes(error.content):
            raise RetryLater(_message(error.content), seconds=_retry_after(session)) from error
        raise CrmError(_message(error.content)) from error
    except SalesforceResourceNotFound as error:
        if record_id and _codes(error.content) & _GONE_CODES:
            raise RecordGone(record_id, _message(error.content)) from error
        raise CrmError(_message(error.content)) from error
    except SalesforceMalformedRequest as error:
        missing = _missing_columns(_errors(error.content), code_key="errorCode")
        if missing:
            raise FieldMissing(missing, _message(error.content)) from error
        raise CrmError(_message(error.content)) from error
    except SalesforceError as error:
        if error.status == 429:
            raise RetryLater(_message(error.content), seconds=_retry_after(session)) from error
        if error.status >= 500:
            raise RetryLater(f"Salesforce answered {error.status}") from error
        raise CrmError(_message(error.content)) from error
    except (requests.ConnectionError, requests.Timeout) as error:
        raise RetryLater(f"No answer from Salesforce: {error}") from error


class SalesforceProvider:
    name = "salesforce"
    label = "Salesforce"
    # Salesforce's default open stages, in their order; closed ones go by IsWon.
    stage_map: dict[str, str] = {
        "Prospecting": "submitted",
        "Qualification": "qualified",
        "Needs Analysis": "opportunity",
        "Value Proposition": "opportunity",
        "Id. Decision Makers": "opportunity",
        "Perception Analysis": "opportunity",
        "Proposal/Price Quote": "opportunity",
        "Negotiation/Review": "opportunity",
    }
    # sObject Collections' limit: at most 200 records per request.
    batch_size = 200

    # --- connecting -------------------------------------------------------------------

    def _session(self) -> _Session:
        return _Session(timeout=settings.CRM_TIMEOUT_SECONDS)

    def _token_url(self) -> str:
        return settings.SALESFORCE_LOGIN_URL.rstrip("/") + _TOKEN_PATH

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "redirect_uri": redirect_uri,
                # api: the REST API; refresh_token: stay connected without the manager.
                "scope": "api refresh_token",
                "state": state,
            }
        )
        return f"{settings.SALESFORCE_LOGIN_URL.rstrip('/')}/services/oauth2/authorize?{query}"

    def _token_grant(self, data: dict[str, str], *, refused: type[Exception]) -> dict[str, Any]:
        """POST the token endpoint; a refused grant raises ``refused`` with Salesforce's words."""
        try:
            response = self._session().post(self._token_url(), data=data)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise RetryLater(f"No answer from Salesforce: {error}") from error
        if response.status_code >= 500:
            raise RetryLater(f"Salesforce's token endpoint answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            description = body.get("error_description") or body.get("error") or response.text[:200]
            if body.get("error") == "invalid_grant":
                raise refused(description)
            raise CrmError(description)
        return dict(body)

    @staticmethod
    def _tokens(body: Mapping[str, Any], refresh_token: str = "") -> Tokens:
        # id is https://login.salesforce.com/id/<org id>/<user id>.
        identity = urlsplit(str(body.get("id", ""))).path.strip("/").split("/")
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or refresh_token),
            instance_url=str(body["instance_url"]),
            expires_at=None,
            account_id=identity[1] if len(identity) >= 3 else "",
        )

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        body = self._token_grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "client_secret": settings.SALESFORCE_CLIENT_SECRET,
                "redirect_uri": redirect_uri,
            },
            refused=CrmError,
        )
        return self._tokens(body)

    def refresh(self, tokens: Tokens) -> Tokens:
        """A new access token; a JWT connection (no refresh token) signs a new grant."""
        if not tokens.refresh_token:
            return self.jwt_connect()
        body = self._token_grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            },
            refused=AuthRevoked,
        )
        # Salesforce keeps the refresh token unless the app rotates it; the answer says.
        return self._tokens(body, refresh_token=tokens.refresh_token)

    def jwt_connect(self) -> Tokens:
        """The JWT bearer flow: the integration user's token, no person's consent."""
        if not (settings.SALESFORCE_JWT_USERNAME and settings.SALESFORCE_JWT_PRIVATE_KEY_FILE):
            raise AuthRevoked("Neither a refresh token nor the JWT bearer settings are set")
        key = Path(settings.SALESFORCE_JWT_PRIVATE_KEY_FILE).read_text()
        assertion = jwt.encode(
            {
                "iss": settings.SALESFORCE_CLIENT_ID,
                "sub": settings.SALESFORCE_JWT_USERNAME,
                "aud": settings.SALESFORCE_LOGIN_URL.rstrip("/"),
                # Salesforce accepts an assertion for at most three minutes.
                "exp": int(time.time()) + 180,
            },
            key,
            algorithm="RS256",
        )
        body = self._token_grant(
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
            refused=AuthRevoked,
        )
        return self._tokens(body)

    def _client(self, tokens: Tokens) -> tuple[Salesforce, _Session]:
        session = self._session()
        client = Salesforce(
            instance_url=tokens.instance_url,
            session_id=tokens.access_token,
            session=session,
            version=settings.SALESFORCE_API_VERSION,
            parse_float=Decimal,
        )
        return client, session

    # --- reading ----------------------------------------------------------------------

    def fetch(self, tokens: Tokens, object_name: str, *, cursor: str, page: str | None) -> Page:
        if object_name not in _QUERIES:
            raise ValueError(f"Not an object the sync reads: {object_name}")
        client, session = self._client(tokens)
        with _translated(session):
            if page:
                answer = client.query_more(page, identifier_is_url=True)
            else:
                answer = client.query(soql(object_name, cursor))
        records = answer.get("records", [])
        normalize = _NORMALIZE[object_name]
        newest = cursor
        for record in records:
            stamp = record["SystemModstamp"]
            if not newest or stamp_parse(stamp) > stamp_parse(newest):
                newest = stamp
        return Page(
            records=[normalize(record) for record in records],
            cursor=newest,
            next_page=None if answer.get("done", True) else answer.get("nextRecordsUrl"),
        )

    # --- writing ----------------------------------------------------------------------

    def referral_push(self, tokens: Tokens, referral: ReferralOut) -> Pushed:
        client, session = self._client(tokens)
        attribution = (
            f"Referred by {referral.advocate_name} ({referral.advocate_email}) through Vouch."
            + (f"\n\n{referral.note}" if referral.note else "")
        )
        with _translated(session):
            found = client.query(
                format_soql(
                    "SELECT Id, AccountId FROM Contact WHERE Email = {}"
                    " ORDER BY CreatedDate LIMIT 1",
                    referral.email,
                )
            )["records"]
        if found:
            contact_id = str(found[0]["Id"])
            account_id = referral.company_id or _text(found[0].get("AccountId"))
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
            with _translated(session):
                contact_id = str(_sobject(client, "Contact").create(contact)["id"])
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
        deal_id, missing = self._create_without_missing(client, session, "Opportunity", opportunity)
        # The opportunity exists now: a failure past this point must not make the sync
        # push the referral again (a second opportunity), so tying the contact to it is
        # best effort.
        try:
            with _translated(session):
                _sobject(client, "OpportunityContactRole").create(
                    {"OpportunityId": deal_id, "ContactId": contact_id, "IsPrimary": True}
                )
        except CrmProblem as problem:
            log.warning("Opportunity %s made without its contact role: %s", deal_id, problem)
        return Pushed(contact_id=contact_id, deal_id=deal_id, fields_missing=missing)

    def _create_without_missing(
        self, client: Salesforce, session: _Session, sobject: str, values: dict[str, Any]
    ) -> tuple[str, tuple[str, ...]]:
        """Create; each custom field Salesforce calls unknown is dropped and the create
        repeated (it names one per answer), so the referral lands without it."""
        missing: list[str] = []
        while True:
            try:
                with _translated(session):
                    return str(_sobject(client, sobject).create(values)["id"]), tuple(missing)
            except FieldMissing as problem:
                unknown = [
                    name for name in problem.fields if name.endswith("__c") and name in values
                ]
                if not unknown:
                    raise
                for name in unknown:
                    values.pop(name)
                    missing.append(name)

    def _update(
        self, tokens: Tokens, sobject: str, external_id: str, values: dict[str, Any]
    ) -> None:
        client, session = self._client(tokens)
        with _translated(session, record_id=external_id):
            _sobject(client, sobject).update(external_id, values)

    def _update_many(
        self, tokens: Tokens, sobject: str, items: Sequence[tuple[str, dict[str, Any]]]
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
        if len(items) > self.batch_size:
            raise ValueError(f"At most {self.batch_size} records per call, not {len(items)}")
        client, session = self._client(tokens)
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": sobject}, "id": external_id, **values}
                for external_id, values in items
            ],
        }
        try:
            with _translated(session):
                answer = client.restful("composite/sobjects", method="PATCH", json=body)
        except FieldMissing as problem:
            return {
                external_id: FieldMissing(problem.fields, str(problem)) for external_id, _ in items
            }
        results = answer if isinstance(answer, list) else []
        return {
            external_id: _saved(external_id, results[index] if index < len(results) else None)
            for index, (external_id, _) in enumerate(items)
        }

    @staticmethod
    def _account_fields(advocacy: Advocacy) -> dict[str, Any]:
        return {
            ACCOUNT_ADVOCATES: advocacy.advocates,
            ACCOUNT_REFERENCES_GIVEN: advocacy.references_given,
            ACCOUNT_REFERRALS: advocacy.referrals,
            ACCOUNT_REFERRALS_WON: advocacy.referrals_won,
            ACCOUNT_AMS: advocacy.ams,
        }

    @staticmethod
    def _opportunity_fields(influence: Influence) -> dict[str, Any]:
        return {
            OPPORTUNITY_REFERENCE_CALLS: influence.reference_calls,
            # Text(255): a long list of names is cut rather than refused.
            OPPORTUNITY_REFERENCE_ADVOCATES: influence.advocates[:255],
        }

    def company_write(self, tokens: Tokens, external_id: str, advocacy: Advocacy) -> None:
        self._update(tokens, "Account", external_id, self._account_fields(advocacy))

    def deal_write(self, tokens: Tokens, external_id: str, influence: Influence) -> None:
        self._update(tokens, "Opportunity", external_id, self._opportunity_fields(influence))

    def companies_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Advocacy]]
    ) -> dict[str, CrmProblem | None]:
        return self._update_many(
            tokens, "Account", [(i, self._account_fields(advocacy)) for i, advocacy in items]
        )

    def deals_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Influence]]
    ) -> dict[str, CrmProblem | None]:
        return self._update_many(
            tokens,
            "Opportunity",
            [(i, self._opportunity_fields(influence)) for i, influence in items],
        )


def _sobject(client: Salesforce, name: str) -> SFType:
    # Salesforce.__getattr__ also answers "bulk"/"bulk2", hence its wide return type.
    return cast(SFType, getattr(client, name))


def _today() -> date:
    return datetime.now(tz=UTC).date()


provider = SalesforceProvider()


def get_provider() -> SalesforceProvider:
    return provider


def jwt_connect() -> Tokens:
    """Connect the integration user by the JWT bearer flow (settings.SALESFORCE_JWT_*)."""
    return provider.jwt_connect()
