"""Salesforce, spoken through simple-salesforce (integrations.crm.base.Provider).

What it reads, incrementally by ``SystemModstamp`` (changes a person or an automation
makes both move it, unlike ``LastModifiedDate``), oldest first, ``Id`` breaking ties:
User (standard users only: portal and automated users own nothing a rep works),
Account, Contact and Opportunity. A page is one answer of the query resource; the
rest of the result is fetched through its ``nextRecordsUrl`` (``query_more``).

What it writes: a referral becomes a Contact (an existing one with the same email is
reused) and an Opportunity in the first default stage, owned by the rep, tied together
by an OpportunityContactRole so the person shows on the opportunity. Advocacy and
reference-call influence go to custom fields, which the Salesforce admin creates
(docs/crm.md); an org without them still gets the referral, minus the fields.
Many accounts or opportunities are written in one request through sObject Collections
(``PATCH composite/sobjects``, at most ``batch_size`` = 200 records, ``allOrNone`` false
so one bad record does not hold back the others).

Connections: the OAuth 2.0 web-server flow (a manager consents), or the JWT bearer flow
for an integration user (``jwt_connect``). Salesforce's token answer has no
``expires_in``: a 401 ``INVALID_SESSION_ID`` is how the sync learns to refresh.

Salesforce answers an exhausted daily API allowance with 403 ``REQUEST_LIMIT_EXCEEDED``,
not 429: both become ``RetryLater`` here.

This module holds the provider (``SalesforceProvider`` and its instance ``provider``)
and the page a read makes; its methods hand the rest to the submodules:

- ``api``: the HTTP session and client, and Salesforce's errors as the interface's;
- ``auth``: the OAuth web-server and JWT bearer grants, and their answers as Tokens;
- ``records``: the columns read, the incremental SOQL, rows as normalized records;
- ``writes``: the referral push, the custom fields and the one-record and collection
  writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from integrations.crm.base import (
    Advocacy,
    AuthRevoked,
    CrmError,
    CrmProblem,
    Influence,
    Page,
    Pushed,
    ReferralOut,
    Tokens,
)
from integrations.crm.salesforce import api, auth, records, writes
from integrations.crm.salesforce.records import domain_from_website, soql, stamp_parse
from integrations.crm.salesforce.writes import (
    ACCOUNT_ADVOCATES,
    ACCOUNT_AMS,
    ACCOUNT_REFERENCES_GIVEN,
    ACCOUNT_REFERRALS,
    ACCOUNT_REFERRALS_WON,
    CLOSE_IN_DAYS,
    FIRST_STAGE,
    LEAD_SOURCE,
    OPPORTUNITY_ADVOCATE_EMAIL,
    OPPORTUNITY_REFERENCE_ADVOCATES,
    OPPORTUNITY_REFERENCE_CALLS,
    OPPORTUNITY_REFERRAL_ID,
)

__all__ = [
    "ACCOUNT_ADVOCATES",
    "ACCOUNT_AMS",
    "ACCOUNT_REFERENCES_GIVEN",
    "ACCOUNT_REFERRALS",
    "ACCOUNT_REFERRALS_WON",
    "CLOSE_IN_DAYS",
    "FIRST_STAGE",
    "LEAD_SOURCE",
    "OPPORTUNITY_ADVOCATE_EMAIL",
    "OPPORTUNITY_REFERENCE_ADVOCATES",
    "OPPORTUNITY_REFERENCE_CALLS",
    "OPPORTUNITY_REFERRAL_ID",
    "SalesforceProvider",
    "domain_from_website",
    "get_provider",
    "jwt_connect",
    "provider",
    "soql",
    "stamp_parse",
]


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

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        return auth.authorize_url(state=state, redirect_uri=redirect_uri)

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        body = auth.token_grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "client_secret": settings.SALESFORCE_CLIENT_SECRET,
                "redirect_uri": redirect_uri,
            },
            refused=CrmError,
        )
        return auth.tokens(body)

    def refresh(self, tokens: Tokens) -> Tokens:
        """A new access token; a JWT connection (no refresh token) signs a new grant."""
        if not tokens.refresh_token:
            return self.jwt_connect()
        body = auth.token_grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            },
            refused=AuthRevoked,
        )
        # Salesforce keeps the refresh token unless the app rotates it; the answer says.
        return auth.tokens(body, refresh_token=tokens.refresh_token)

    def jwt_connect(self) -> Tokens:
        """The JWT bearer flow: the integration user's token, no person's consent."""
        body = auth.token_grant(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": auth.jwt_assertion(),
            },
            refused=AuthRevoked,
        )
        return auth.tokens(body)

    # --- reading ----------------------------------------------------------------------

    def fetch(self, tokens: Tokens, object_name: str, *, cursor: str, page: str | None) -> Page:
        if object_name not in records.QUERIES:
            raise ValueError(f"Not an object the sync reads: {object_name}")
        client, session = api.client(tokens)
        with api.translated(session):
            if page:
                answer = client.query_more(page, identifier_is_url=True)
            else:
                answer = client.query(soql(object_name, cursor))
        rows = answer.get("records", [])
        normalize = records.NORMALIZE[object_name]
        newest = cursor
        for row in rows:
            stamp = row["SystemModstamp"]
            if not newest or stamp_parse(stamp) > stamp_parse(newest):
                newest = stamp
        return Page(
            records=[normalize(row) for row in rows],
            cursor=newest,
            next_page=None if answer.get("done", True) else answer.get("nextRecordsUrl"),
        )

    # --- writing ----------------------------------------------------------------------

    def referral_push(self, tokens: Tokens, referral: ReferralOut) -> Pushed:
        return writes.referral_push(tokens, referral)

    def company_write(self, tokens: Tokens, external_id: str, advocacy: Advocacy) -> None:
        writes.update(tokens, "Account", external_id, writes.account_fields(advocacy))

    def deal_write(self, tokens: Tokens, external_id: str, influence: Influence) -> None:
        writes.update(tokens, "Opportunity", external_id, writes.opportunity_fields(influence))

    def companies_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Advocacy]]
    ) -> dict[str, CrmProblem | None]:
        return writes.update_many(
            tokens,
            "Account",
            [(i, writes.account_fields(advocacy)) for i, advocacy in items],
            batch_size=self.batch_size,
        )

    def deals_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Influence]]
    ) -> dict[str, CrmProblem | None]:
        return writes.update_many(
            tokens,
            "Opportunity",
            [(i, writes.opportunity_fields(influence)) for i, influence in items],
            batch_size=self.batch_size,
        )


provider = SalesforceProvider()


def get_provider() -> SalesforceProvider:
    return provider


def jwt_connect() -> Tokens:
    """Connect the integration user by the JWT bearer flow (settings.SALESFORCE_JWT_*)."""
    return provider.jwt_connect()
