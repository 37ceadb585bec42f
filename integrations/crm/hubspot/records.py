"""What Vouch reads of each HubSpot object, and how a search row becomes a record.

The properties asked for and the last-modified stamp each object sorts and filters by
(contacts name theirs differently), the default pipeline's stage labels, the sync cursor
(an ISO stamp) and page tokens (``"{since millis}:{after}"``), and the normalization of
HubSpot's property strings into integrations.crm.base's Company, Contact and Deal. No
calls to HubSpot here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from integrations.crm.base import Company, Contact, Deal

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
