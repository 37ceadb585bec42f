"""What Vouch reads of each Salesforce object, and how a query row becomes a record.

The columns read per object (User, Account, Contact, Opportunity) and the incremental
SOQL query by ``SystemModstamp`` (``soql``), the stamp format cursors are written in
(``stamp_parse``), and the normalization of query rows into integrations.crm.base's
Owner, Company, Contact and Deal (``NORMALIZE``). No calls to Salesforce here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from integrations.crm.base import Company, Contact, Deal, Owner

# The columns read per object, and the WHERE a User query adds.
QUERIES: dict[str, tuple[str, str, str]] = {
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


def stamp_parse(value: str) -> datetime:
    """A SystemModstamp (or a cursor, which is one) as an aware datetime."""
    return datetime.strptime(value, _STAMP_FORMAT)


def soql(object_name: str, cursor: str) -> str:
    """The incremental query for one object: what changed after ``cursor``, oldest first.

    ``>`` and not ``>=``: stamps have whole seconds, so the newest record already applied
    is not read again on every run; two records changed in the same second on either side
    of a page boundary are both read, because the cursor only moves per page applied.
    """
    sobject, columns, where = QUERIES[object_name]
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


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _owner(record: Mapping[str, Any]) -> Owner:
    return Owner(
        external_id=record["Id"],
        email=as_text(record.get("Email")).lower(),
        first_name=as_text(record.get("FirstName")),
        last_name=as_text(record.get("LastName")),
        active=bool(record.get("IsActive", True)),
    )


def _company(record: Mapping[str, Any]) -> Company:
    employees = record.get("NumberOfEmployees")
    return Company(
        external_id=record["Id"],
        name=as_text(record.get("Name")),
        domain=domain_from_website(record.get("Website")),
        industry=as_text(record.get("Industry")),
        employees=int(employees) if employees is not None else None,
        owner_id=as_text(record.get("OwnerId")),
        modified_at=stamp_parse(record["SystemModstamp"]),
    )


def _contact(record: Mapping[str, Any]) -> Contact:
    return Contact(
        external_id=record["Id"],
        email=as_text(record.get("Email")).lower(),
        first_name=as_text(record.get("FirstName")),
        last_name=as_text(record.get("LastName")),
        title=as_text(record.get("Title")),
        company_id=as_text(record.get("AccountId")),
        owner_id=as_text(record.get("OwnerId")),
        modified_at=stamp_parse(record["SystemModstamp"]),
    )


def _deal(record: Mapping[str, Any]) -> Deal:
    amount = record.get("Amount")
    close = record.get("CloseDate")
    return Deal(
        external_id=record["Id"],
        name=as_text(record.get("Name")),
        # parse_float=Decimal already gives 235000.0 as Decimal; a whole number arrives
        # as int, and Decimal(str(...)) keeps either exact.
        amount=Decimal(str(amount)) if amount is not None else None,
        stage=as_text(record.get("StageName")),
        # StageName is the label a person reads too (the API name equals the label for
        # the standard stages; a translated org shows the master label either way).
        stage_label=as_text(record.get("StageName")),
        is_closed=bool(record.get("IsClosed")),
        is_won=bool(record.get("IsWon")),
        close_date=date.fromisoformat(close) if close else None,
        company_id=as_text(record.get("AccountId")),
        owner_id=as_text(record.get("OwnerId")),
        modified_at=stamp_parse(record["SystemModstamp"]),
    )


NORMALIZE: dict[str, Callable[[Mapping[str, Any]], Owner | Company | Contact | Deal]] = {
    "owners": _owner,
    "companies": _company,
    "contacts": _contact,
    "deals": _deal,
}
