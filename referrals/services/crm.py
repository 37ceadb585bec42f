"""Events from the CRM (the CRM API, ``referrals.api``): checked, applied once per event
id, and their result stored so that a replay returns it.

An event is ``referral.stage_changed`` (``referral``, ``stage``, optional ``amount`` and
``occurred_at``) or ``referral.created`` (``advocate_email``, ``referred_name``,
``referred_email``...). Errors that changed nothing (malformed body, unknown referral)
raise ``EventError`` and are not stored, so the CRM can fix and resend the same id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from advocates.models import Advocate
from referrals.models import CrmEvent, Method, Referral, ReferralStageChange, Stage
from referrals.services import ReferralError, deal_amount_check, referral_advance, referral_create

MAX_BODY_BYTES = 64 * 1024
TYPES = ("referral.stage_changed", "referral.created")


class EventError(Exception):
    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}


def _text(event: dict, name: str, *, required: bool = True, max_length: int = 200) -> str:
    value = event.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise EventError(400, f"“{name}” must be a string.")
    value = str(value).strip()
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it, not a 500
        raise EventError(400, f"“{name}” must not contain NUL characters.")
    if required and not value:
        raise EventError(400, f"“{name}” is required.")
    if len(value) > max_length:
        raise EventError(400, f"“{name}” is longer than {max_length} characters.")
    return value


def _parse(body: bytes) -> dict:
    if len(body) > MAX_BODY_BYTES:
        raise EventError(413, "The body is larger than 64 KB.")
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError, UnicodeDecodeError and an integer of more
        # than 4,300 digits; RecursionError a body nested thousands of levels deep.
        raise EventError(400, "The body is not valid JSON.") from None
    if not isinstance(event, dict):
        raise EventError(400, "The body must be a JSON object.")
    _text(event, "id")
    if event.get("type") not in TYPES:
        raise EventError(400, f"“type” must be one of: {', '.join(TYPES)}.")
    return event


def _occurred_at(event: dict) -> datetime | None:
    raw = event.get("occurred_at")
    if raw in (None, ""):
        return None
    try:
        parsed = parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise EventError(400, "“occurred_at” must be an ISO 8601 date-time with a timezone.")
    return parsed


def _amount(event: dict) -> Decimal | None:
    raw = event.get("amount")
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise EventError(400, '“amount” must be a decimal string like "12000.00".')
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise EventError(400, '“amount” must be a decimal string like "12000.00".') from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise EventError(400, "“amount” must be a non-negative amount.")
    amount = amount.quantize(Decimal("0.01"))
    try:
        # Refused before anything is written, as a bad body is: nothing is stored, and
        # the CRM may resend the id with the amount fixed.
        deal_amount_check(amount)
    except ReferralError as error:
        raise EventError(400, str(error)) from None
    return amount


def _find_referral(ref: str) -> Referral:
    # external_id first: a CRM speaks its own ids; our numeric id is the fallback.
    referral = Referral.objects.filter(external_id=ref).first()
    # isdecimal, not isdigit: "²" is a digit that int() refuses (a 500).
    if referral is None and ref.isascii() and ref.isdecimal():
        referral = Referral.objects.filter(pk=int(ref)).first()
    if referral is None:
        raise EventError(404, f"No referral “{ref}”.")
    return referral


def _apply_stage_changed(event: dict) -> tuple[int, dict, Referral]:
    stage = _text(event, "stage", max_length=20)
    if stage not in Stage.values or stage == Stage.REJECTED:
        pipeline = [s for s in Stage.values if s != Stage.REJECTED]
        raise EventError(400, f"“stage” must be one of: {', '.join(pipeline)}.")
    amount, occurred_at = _amount(event), _occurred_at(event)
    referral = _find_referral(_text(event, "referral", max_length=100))
    try:
        result = referral_advance(
            referral_id=referral.pk,
            stage=stage,
            amount=amount,
            occurred_at=occurred_at,
            source=ReferralStageChange.Source.CRM,
        )
    except ReferralError as error:
        return 409, {"error": str(error), "referral": str(referral.pk)}, referral
    body = {
        "referral": str(result.referral.pk),
        "stage": result.referral.stage,
        "applied": result.applied,
    }
    if result.reason:
        body["reason"] = result.reason
    return 200, body, referral


def _apply_created(event: dict) -> tuple[int, dict, Referral | None]:
    advocate_email = _text(event, "advocate_email", max_length=254)
    method = _text(event, "method", required=False, max_length=20) or Method.LEAD_FORM
    if method not in Method.values:
        raise EventError(400, f"“method” must be one of: {', '.join(Method.values)}.")
    fields: dict[str, Any] = {
        "referred_name": _text(event, "referred_name"),
        "referred_email": _text(event, "referred_email", max_length=254),
        "referred_company": _text(event, "referred_company", required=False),
        "referred_title": _text(event, "referred_title", required=False),
        "external_id": _text(event, "external_id", required=False, max_length=100),
    }
    advocate = Advocate.objects.filter(user__email__iexact=advocate_email).first()
    if advocate is None:
        raise EventError(404, f"No advocate “{advocate_email}”.")
    try:
        referral = referral_create(
            advocate_id=advocate.pk,
            method=method,
            created_at=_occurred_at(event),
            source=ReferralStageChange.Source.CRM,
            **fields,
        )
    except ReferralError as error:
        # A refusal (self-referral, limit) is the event's result: stored, replayed as is.
        return 422, {"error": str(error)}, None
    body = {"referral": str(referral.pk), "stage": referral.stage, "applied": True}
    if referral.duplicate_of_id:
        body |= {"reason": "duplicate", "duplicate_of": str(referral.duplicate_of_id)}
    return 201, body, referral


@dataclass(frozen=True)
class EventOutcome:
    status: int
    body: dict[str, Any]
    replayed: bool


def crm_event_apply(*, body: bytes) -> EventOutcome:
    """Apply one signed event body, once per event id; EventError when it is refused."""
    event = _parse(body)
    event_id = str(event["id"]).strip()

    stored = CrmEvent.objects.filter(event_id=event_id).first()
    if stored is not None:
        return _replayed(stored)
    try:
        with transaction.atomic():
            # The insert claims the id: a concurrent request with the same id blocks on
            # the unique index until this transaction ends, then fails and replays ours.
            record = CrmEvent.objects.create(
                event_id=event_id, type=event["type"], status_code=102, result={}
            )
            referral: Referral | None
            if event["type"] == "referral.stage_changed":
                status, result, referral = _apply_stage_changed(event)
            else:
                status, result, referral = _apply_created(event)
            result = {"id": event_id, **result}
            record.status_code, record.result, record.referral = status, result, referral
            record.save(update_fields=["status_code", "result", "referral"])
    except IntegrityError:
        stored = CrmEvent.objects.filter(event_id=event_id).first()
        if stored is None:
            raise
        return _replayed(stored)
    return EventOutcome(status=status, body=result, replayed=False)


def _replayed(stored: CrmEvent) -> EventOutcome:
    return EventOutcome(status=stored.status_code, body=stored.result, replayed=True)
