"""What a CRM provider module implements, and what the sync gets back from it.

A provider speaks to one CRM's HTTP API and nothing else: it never reads or writes
Vouch's tables. The sync (``integrations.crm.sync``) hands it the connection's tokens and
a cursor, gets back pages of the normalized records below, and maps them onto companies,
people, reps, opportunities and referral stages. Outbound, it hands the provider a
referral or an account's advocacy to write.

Errors a provider raises, and what the sync does with each:

- ``TokenExpired``: the access token was refused (HTTP 401); the sync refreshes it once
  and repeats the call.
- ``AuthRevoked``: the refresh token (or JWT grant) was refused: the connection is marked
  "Needs reconnecting" and nothing more is tried until a manager connects again.
- ``RetryLater``: 429 (``seconds`` is the CRM's Retry-After) or 5xx or no answer: the run
  stops where it is (its cursor is kept) and the task retries with backoff.
- ``FieldMissing``: a custom field/property Vouch writes does not exist in this CRM (the
  admin has not created it): recorded against the record, with the field's name.
- ``RecordGone``: the record was deleted in the CRM: recorded, its link dropped.
- ``CrmError``: any other refusal of one record (validation...): recorded against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# The objects a sync reads, in this order (a contact names its company and owner, a deal
# its company and owner, so those come first).
OBJECTS = ("owners", "companies", "contacts", "deals")


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str = ""
    # Salesforce: the org's API host (https://…my.salesforce.com); HubSpot: "".
    instance_url: str = ""
    # When the access token stops working, when the CRM says (HubSpot's expires_in);
    # None when it does not say (Salesforce): a 401 then triggers the refresh.
    expires_at: datetime | None = None
    # The CRM account connected: Salesforce org id, HubSpot portal (hub) id, and a name.
    account_id: str = ""
    account_name: str = ""


@dataclass(frozen=True)
class Owner:
    """A CRM user who owns records (Salesforce User, HubSpot owner): a rep in Vouch."""

    external_id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    active: bool = True


@dataclass(frozen=True)
class Company:
    """Salesforce Account, HubSpot company."""

    external_id: str
    name: str
    domain: str = ""  # bare host, lower case, no scheme or www: "acme.com"
    industry: str = ""
    employees: int | None = None
    owner_id: str = ""  # Owner.external_id
    modified_at: datetime | None = None


@dataclass(frozen=True)
class Contact:
    """Salesforce Contact, HubSpot contact."""

    external_id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    company_id: str = ""  # Company.external_id
    owner_id: str = ""
    modified_at: datetime | None = None


@dataclass(frozen=True)
class Deal:
    """Salesforce Opportunity, HubSpot deal."""

    external_id: str
    name: str
    amount: Decimal | None = None
    stage: str = ""  # the CRM's own stage value (StageName, dealstage id)
    stage_label: str = ""  # what a person reads ("Closed Won", "Contract Sent")
    is_closed: bool = False
    is_won: bool = False
    close_date: date | None = None
    company_id: str = ""
    owner_id: str = ""
    modified_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of changed records of one object, oldest change first.

    ``cursor`` is what to store once this page is applied: the next run asks only for
    what changed after it (a timestamp string the provider itself understands).
    ``next_page`` is the provider's token for the rest of this run's result
    (Salesforce's nextRecordsUrl, HubSpot's paging.next.after), None on the last page.
    """

    records: Sequence[Owner | Company | Contact | Deal]
    cursor: str
    next_page: str | None = None


@dataclass(frozen=True)
class ReferralOut:
    """A referral made in Vouch, to become a contact/lead and a deal/opportunity."""

    referral_id: int
    first_name: str
    last_name: str
    email: str
    company_name: str
    title: str
    note: str
    advocate_name: str
    advocate_email: str
    # The owner rep's CRM owner id ("" when the rep is not linked to a CRM owner).
    owner_id: str
    # The CRM company the referred person belongs to, when Vouch knows it ("" else).
    company_id: str = ""


@dataclass(frozen=True)
class Pushed:
    contact_id: str  # the lead or contact created (or found: same email)
    deal_id: str
    # Custom fields the CRM refused as unknown: the records were written without them.
    fields_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Advocacy:
    """What Vouch writes on the CRM's company (account) record."""

    advocates: int
    references_given: int
    referrals: int
    referrals_won: int
    ams: int | None  # the company's best Advocate Marketing Score, None without advocates


@dataclass(frozen=True)
class Influence:
    """What Vouch writes on an opportunity/deal a reference call helped."""

    reference_calls: int
    advocates: str  # names, comma-separated


class CrmProblem(Exception):
    """Base of what a provider raises."""


class TokenExpired(CrmProblem):
    pass


class AuthRevoked(CrmProblem):
    pass


class RetryLater(CrmProblem):
    def __init__(self, message: str, *, seconds: int | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds


class FieldMissing(CrmProblem):
    def __init__(self, fields: Sequence[str], message: str = "") -> None:
        self.fields = tuple(fields)
        super().__init__(message or f"Not a field in the CRM: {', '.join(self.fields)}")


class RecordGone(CrmProblem):
    def __init__(self, external_id: str, message: str = "") -> None:
        self.external_id = external_id
        super().__init__(message or f"Record {external_id} was deleted in the CRM")


class CrmError(CrmProblem):
    pass


@dataclass
class Settings:
    """A provider's app credentials (from the environment, config.settings)."""

    client_id: str
    client_secret: str
    extra: dict[str, str] = field(default_factory=dict)


class Provider(Protocol):
    name: str  # "salesforce" | "hubspot"
    label: str  # "Salesforce" | "HubSpot"
    # The CRM's open stage values (StageName, dealstage id) mapped to Vouch's referral
    # stages ("submitted", "qualified", "opportunity"); an open stage not listed counts as
    # "opportunity", a closed one is "won" or "lost" by Deal.is_won. A manager may
    # override it per connection.
    stage_map: dict[str, str]

    def authorize_url(self, *, state: str, redirect_uri: str) -> str: ...

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens: ...

    def refresh(self, tokens: Tokens) -> Tokens:
        """A new access token (raises AuthRevoked when the CRM refuses the grant)."""
        ...

    def fetch(self, tokens: Tokens, object_name: str, *, cursor: str, page: str | None) -> Page: ...

    def referral_push(self, tokens: Tokens, referral: ReferralOut) -> Pushed: ...

    def company_write(self, tokens: Tokens, external_id: str, advocacy: Advocacy) -> None: ...

    def deal_write(self, tokens: Tokens, external_id: str, influence: Influence) -> None: ...

    # Many records per call (Salesforce's sObject Collections, HubSpot's batch update):
    # at most ``batch_size`` items. The result names each item's own problem (None when
    # written): RecordGone, FieldMissing or CrmError. A problem of the whole call
    # (TokenExpired, AuthRevoked, RetryLater) is raised as by the one-record methods.
    batch_size: int

    def companies_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Advocacy]]
    ) -> dict[str, CrmProblem | None]: ...

    def deals_write(
        self, tokens: Tokens, items: Sequence[tuple[str, Influence]]
    ) -> dict[str, CrmProblem | None]: ...
