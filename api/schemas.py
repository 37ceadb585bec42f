"""What each resource looks like in the API (pydantic, through django-ninja).

Each schema names its fields one by one: a field added to a model stays out of the API
until someone decides it belongs here. Left out on purpose: password hashes and tokens
(users are never listed), link nonces and idempotency keys, gift-card codes and tracking
notes (``Redemption.fulfilment_note``, for the redeeming advocate only), shipping
addresses, free-text notes and feedback. People appear as ids and, for staff, emails.
Times are ISO-8601 in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class Problem(Schema):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""


class Company(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size_band: str
    updated_at: datetime


class Advocate(Schema):
    id: int
    email: str = Field(..., alias="user.email")
    first_name: str = Field(..., alias="user.first_name")
    last_name: str = Field(..., alias="user.last_name")
    company_id: int | None
    title: str
    seniority: str
    industry: str
    status: str
    owner_rep_email: str | None = Field(None, alias="owner_rep.email")
    reference_opt_in: bool
    balance: int
    lifetime_points: int
    ams: int
    nps_score: int | None
    joined_at: datetime | None
    last_active_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Challenge(Schema):
    id: int
    title: str
    description: str
    kind: str
    points: int
    status: str
    starts_at: datetime
    ends_at: datetime | None
    audience: str
    completion_limit: int
    auto_approve: bool
    target_url: str
    event_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Submission(Schema):
    id: int
    challenge_id: int
    advocate_id: int
    status: str
    url: str
    text: str
    answers: dict[str, Any] | list[Any]
    rejection_reason: str
    created_at: datetime
    reviewed_at: datetime | None
    updated_at: datetime


class Reward(Schema):
    id: int
    name: str
    description: str
    kind: str
    points_cost: int
    stock: int | None
    limit_count: int | None
    limit_period: str
    starts_at: datetime | None
    ends_at: datetime | None
    is_active: bool
    needs_shipping: bool
    created_at: datetime
    updated_at: datetime


class Redemption(Schema):
    id: int
    reward_id: int
    advocate_id: int
    points: int
    status: str
    cancel_reason: str
    created_at: datetime
    approved_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime


class Referral(Schema):
    id: int
    advocate_id: int
    method: str
    referred_name: str
    referred_email: str
    referred_company: str
    referred_title: str
    stage: str
    rejection_reason: str
    duplicate_of_id: int | None
    owner_rep_email: str | None = Field(None, alias="owner_rep.email")
    deal_amount: Decimal | None
    external_id: str
    created_at: datetime
    stage_changed_at: datetime
    won_at: datetime | None
    updated_at: datetime


class ReferenceRequest(Schema):
    id: int
    rep_email: str = Field(..., alias="rep.email")
    prospect_name: str
    prospect_email: str
    prospect_company: str
    prospect_title: str
    opportunity_name: str
    opportunity_amount: Decimal
    opportunity_stage: str
    call_type: str
    needed_by: date
    status: str
    outcome: str
    won_amount: Decimal | None
    closed_on: date | None
    prospect_rating: int | None
    created_at: datetime
    matched_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime


class LedgerEntry(Schema):
    id: int
    advocate_id: int
    amount: int
    kind: str
    reason: str
    source_type: str
    source_id: str
    created_at: datetime
