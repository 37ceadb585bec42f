"""Recorded HubSpot exchanges (recordings/hubspot/README.md) for tests beyond the provider's.

The provider's SDK (hubspot-api-client) sends HTTP with urllib3, so the recordings are
served by a loopback pytest-httpserver (``httpserver`` fixture) that
``settings.HUBSPOT_API_URL`` points at; every function here takes that server first::

    from tests.integrations.crm_hubspot_replay import point_at, replay_sync, OPEN_DEAL_ID

    def test_sync(httpserver, settings):
        point_at(httpserver, settings)
        replay_sync(httpserver, run=1)
        ...  # run the sync; then httpserver.clear() and replay_sync(httpserver, run=3)

- ``replay_sync(server, run=1)``: a first full sync: 3 owners, 10 companies over 2 pages,
  2 contacts, 3 open deals (OPEN_DEAL_ID among them) and the deals' companies.
- ``run=2``: a second incremental run when nothing changed: the owners again, every
  search empty.
- ``run=3``: OPEN_DEAL_ID moved to closed-won with WON_AMOUNT (only dealstage, amount,
  hs_is_closed, hs_is_closed_won and the modified stamps differ from run 1's record).
- ``replay_push(server)``: a referral push: contact created (or, with
  ``existing_contact=True``, HubSpot's 409 naming EXISTING_CONTACT_ID) and a deal whose id
  is OPEN_DEAL_ID; ``fields_missing=True`` refuses the custom properties first.
- ``replay_company_write(server)`` / ``replay_deal_write(server)``: a PATCH of any record id;
  ``outcome="missing"`` answers PROPERTY_DOESNT_EXIST, ``outcome="gone"`` 404.
- ``replay_companies_write(server)`` / ``replay_deals_write(server)``: a batch/update;
  ``outcome="ok"`` writes BATCH_WRITTEN[object] (200), ``"partial"`` writes those and reports
  BATCH_GONE[object] deleted (207 OBJECT_NOT_FOUND), ``"missing"`` refuses the whole call
  (400 PROPERTY_DOESNT_EXIST: ``vouch_ams``; ``vouch_reference_calls`` and
  ``vouch_reference_advocates``).
- ``replay_oauth(server)``: token and token-info answers (HUB_ID); ``refused=True`` is the
  token endpoint's BAD_REFRESH_TOKEN.

Each call adds handlers; ``server.clear()`` between runs starts afresh.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from werkzeug import Request, Response

RECORDINGS = Path(__file__).parent / "recordings" / "hubspot"

OWNER_ID = "41629779"
OWNER_EMAIL = "email@hubspot.com"
COMPANY_IDS = (
    "2823023532",
    "5281147581",
    "5281496158",
    "5281499282",
    "5281496155",
    "5281147580",
    "5281147583",
    "5281496154",
    "5281496157",
    "2810868468",
)
COMPANY_DOMAINS = {"2810868468": "google.com", "2823023532": "pepsico.com"}
CONTACT_IDS = ("100451", "57156923994")
CONTACT_EMAILS = ("testperson@hubspot.com", "emailmaria@hubspot.com")
DEAL_IDS = ("10168850185", "10096681328", "10274255383")
OPEN_DEAL_ID = "10096681328"
OPEN_DEAL_STAGE = "presentationscheduled"
OPEN_DEAL_AMOUNT = Decimal("20")
OPEN_DEAL_COMPANY_ID = "2810868468"
WON_AMOUNT = Decimal("12500")
CREATED_CONTACT_ID = "1201"
EXISTING_CONTACT_ID = "37765128953"
HUB_ID = "62515"
# The batch/update recordings answer for these ids (written, then the one deleted).
BATCH_WRITTEN = {
    "companies": ("2810868468", "2823023532"),
    "deals": ("10096681328", "10168850185"),
}
BATCH_GONE = {"companies": "5281147581", "deals": "10274255383"}

ANY_ID = re.compile(r"^/crm/v3/objects/{}/[^/]+$")


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def respond(name: str) -> Response:
    """The recorded answer as a werkzeug Response (status, headers, body)."""
    answer = recording(name)["response"]
    body = answer["body"]
    return Response(
        "" if body is None else json.dumps(body),
        status=answer["status"],
        headers=answer["headers"],
    )


def point_at(server: Any, settings: Any) -> None:
    """Point the provider at the loopback server, with app credentials for the token calls."""
    settings.HUBSPOT_API_URL = server.url_for("/").rstrip("/")
    settings.HUBSPOT_CLIENT_ID = "5b456dab-9d3f-4000-85c3-14ba5b1bd30e"
    settings.HUBSPOT_CLIENT_SECRET = "client-secret-for-tests"


def _search(pages: dict[str, str]) -> Any:
    """A search handler answering by the request's `after` ('' for the first page)."""

    def handler(request: Request) -> Response:
        after = str(json.loads(request.get_data(as_text=True) or "{}").get("after") or "")
        return respond(pages.get(after, "search_empty"))

    return handler


def replay_sync(server: Any, *, run: int) -> None:
    server.expect_request("/crm/v3/owners/", method="GET").respond_with_handler(
        lambda _request: respond("owners")
    )
    companies: dict[str, str] = {}
    contacts: dict[str, str] = {}
    deals: dict[str, str] = {}
    if run == 1:
        companies = {"": "companies_search_page1", "5": "companies_search_page2"}
        contacts = {"": "contacts_search"}
        deals = {"": "deals_search"}
    elif run == 3:
        deals = {"": "deals_search_won"}
    elif run != 2:
        raise ValueError("run is 1, 2 or 3")
    for name, pages in (("companies", companies), ("contacts", contacts), ("deals", deals)):
        server.expect_request(f"/crm/v3/objects/{name}/search", method="POST").respond_with_handler(
            _search(pages)
        )
    server.expect_request(
        "/crm/v4/associations/deals/companies/batch/read", method="POST"
    ).respond_with_handler(lambda _request: respond("deals_companies_associations"))


def replay_push(
    server: Any, *, existing_contact: bool = False, fields_missing: bool = False
) -> None:
    contact = "contact_create_409_exists" if existing_contact else "contact_create"
    server.expect_request("/crm/v3/objects/contacts", method="POST").respond_with_handler(
        lambda _request: respond(contact)
    )
    if fields_missing:
        server.expect_oneshot_request("/crm/v3/objects/deals", method="POST").respond_with_handler(
            lambda _request: respond("property_doesnt_exist_deal")
        )
    server.expect_request("/crm/v3/objects/deals", method="POST").respond_with_handler(
        lambda _request: respond("deal_create")
    )


def _write(server: Any, object_name: str, outcome: str, ok: str, missing: str) -> None:
    name = {"ok": ok, "missing": missing, "gone": "not_found_404"}[outcome]
    server.expect_request(
        re.compile(ANY_ID.pattern.format(object_name)), method="PATCH"
    ).respond_with_handler(lambda _request: respond(name))


def replay_company_write(server: Any, *, outcome: str = "ok") -> None:
    _write(server, "companies", outcome, "company_update", "property_doesnt_exist_company")


def replay_deal_write(server: Any, *, outcome: str = "ok") -> None:
    _write(server, "deals", outcome, "deal_update", "property_doesnt_exist_deal")


def _batch_write(server: Any, object_name: str, outcome: str) -> None:
    suffix = {"ok": "", "partial": "_207_gone", "missing": "_400_property"}[outcome]
    name = f"{object_name}_batch_update{suffix}"
    server.expect_request(
        f"/crm/v3/objects/{object_name}/batch/update", method="POST"
    ).respond_with_handler(lambda _request: respond(name))


def replay_companies_write(server: Any, *, outcome: str = "ok") -> None:
    _batch_write(server, "companies", outcome)


def replay_deals_write(server: Any, *, outcome: str = "ok") -> None:
    _batch_write(server, "deals", outcome)


def replay_oauth(server: Any, *, refused: bool = False) -> None:
    token = "oauth_token_bad_refresh_token" if refused else "oauth_token"
    server.expect_request("/oauth/v1/token", method="POST").respond_with_handler(
        lambda _request: respond(token)
    )
    server.expect_request(
        re.compile(r"^/oauth/v1/access-tokens/[^/]+$"), method="GET"
    ).respond_with_handler(lambda _request: respond("access_token_info"))


def calls(server: Any, path: str) -> list[dict[str, Any]]:
    """The JSON bodies (or form fields) Vouch sent to ``path``, in order."""
    found = []
    for request, _response in server.log:
        if request.path != path:
            continue
        text = request.get_data(as_text=True)
        found.append(json.loads(text) if text.startswith("{") else dict(request.form))
    return found
