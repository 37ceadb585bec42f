"""The HubSpot provider against recorded HubSpot answers (recordings/hubspot/README.md),
served by a loopback pytest-httpserver that HUBSPOT_API_URL points the SDK at."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.crm import hubspot
from integrations.crm.base import (
    Advocacy,
    AuthRevoked,
    Company,
    Contact,
    CrmError,
    Deal,
    FieldMissing,
    Influence,
    Owner,
    RecordGone,
    ReferralOut,
    RetryLater,
    TokenExpired,
    Tokens,
)
from tests.integrations import crm_hubspot_replay as replay

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TOKENS = Tokens(
    access_token="CIrToaiiMhIHAAEAQAAAARiO1oo", refresh_token="1e8fbfb1", account_id="62515"
)
REFERRAL = ReferralOut(
    referral_id=42,
    first_name="Ada",
    last_name="Lovelace",
    email="ada@analytical.example",
    company_name="Analytical Engines",
    title="CTO",
    note="Wants a demo in January.",
    advocate_name="Grace Hopper",
    advocate_email="grace@navy.example",
    owner_id=replay.OWNER_ID,
)


@pytest.fixture
def api(httpserver, settings, monkeypatch):
    replay.point_at(httpserver, settings)
    monkeypatch.setattr(hubspot, "clock", lambda: NOW)
    return httpserver


def fail_with(server, name: str) -> None:
    server.expect_request(re.compile(".*")).respond_with_handler(lambda _r: replay.respond(name))


# --- OAuth ------------------------------------------------------------------------------


def test_authorize_url_names_the_app_scopes_and_state(settings):
    settings.HUBSPOT_CLIENT_ID = "app-id"
    url = hubspot.provider.authorize_url(state="s1", redirect_uri="https://vouch.example/cb")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://app.hubspot.com/oauth/authorize?")
    assert query["client_id"] == ["app-id"]
    assert query["state"] == ["s1"]
    assert query["redirect_uri"] == ["https://vouch.example/cb"]
    assert "crm.objects.deals.write" in query["scope"][0].split()


def test_exchange_code_returns_tokens_with_expiry_and_hub(api):
    replay.replay_oauth(api)
    tokens = hubspot.provider.exchange_code(
        code="bcf33c57", redirect_uri="https://vouch.example/cb"
    )
    assert tokens.access_token.startswith("CIrToaiiMhIH")
    assert tokens.refresh_token == "1e8fbfb1-8e96-4826-8b8d-c8af73715"
    assert tokens.expires_at == NOW + timedelta(seconds=1800)
    assert tokens.account_id == replay.HUB_ID
    assert tokens.account_name == "demo.hubapi.com"
    form = replay.calls(api, "/oauth/v1/token")[0]
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "bcf33c57"


def test_expired_token_then_refresh_gives_new_tokens(api):
    fail_with_401 = replay.respond("expired_401")
    api.expect_oneshot_request("/crm/v3/objects/deals/search").respond_with_response(fail_with_401)
    with pytest.raises(TokenExpired):
        hubspot.provider.fetch(TOKENS, "deals", cursor="", page=None)
    replay.replay_oauth(api)
    fresh = hubspot.provider.refresh(TOKENS)
    assert fresh.access_token.startswith("CIrToaiiMhIH")
    assert fresh.expires_at == NOW + timedelta(seconds=1800)
    assert fresh.account_id == "62515"
    form = replay.calls(api, "/oauth/v1/token")[0]
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "1e8fbfb1"


def test_refused_refresh_is_auth_revoked(api):
    replay.replay_oauth(api, refused=True)
    with pytest.raises(AuthRevoked, match="invalid, expired or revoked"):
        hubspot.provider.refresh(TOKENS)


# --- Reading ----------------------------------------------------------------------------


def test_owners(api):
    replay.replay_sync(api, run=1)
    page = hubspot.provider.fetch(TOKENS, "owners", cursor="", page=None)
    assert page.records[0] == Owner(
        external_id=replay.OWNER_ID,
        email=replay.OWNER_EMAIL,
        first_name="HubSpot",
        last_name="Test Owner",
    )
    assert len(page.records) == 3
    assert page.next_page is None


def test_companies_paginate_over_two_pages_oldest_first(api):
    replay.replay_sync(api, run=1)
    first = hubspot.provider.fetch(TOKENS, "companies", cursor="", page=None)
    assert first.next_page is not None
    second = hubspot.provider.fetch(TOKENS, "companies", cursor=first.cursor, page=first.next_page)
    assert second.next_page is None
    records = [*first.records, *second.records]
    assert tuple(r.external_id for r in records) == replay.COMPANY_IDS
    stamps = [r.modified_at for r in records]
    assert stamps == sorted(stamps)
    google = records[-1]
    assert google == Company(
        external_id="2810868468",
        name="Google",
        domain="google.com",
        owner_id=replay.OWNER_ID,
        modified_at=datetime(2024, 9, 13, 20, 23, 3, 333000, tzinfo=UTC),
    )
    pepsi = records[0]
    assert (pepsi.domain, pepsi.industry, pepsi.employees) == (
        "pepsico.com",
        "FOOD_BEVERAGES",
        318000,
    )
    assert second.cursor == "2024-09-13T20:23:03.333Z"
    searches = replay.calls(api, "/crm/v3/objects/companies/search")
    assert searches[0]["filterGroups"] == []
    assert searches[0]["sorts"] == [
        {"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}
    ]
    assert searches[1]["after"] == "5"


def test_second_fetch_asks_only_for_records_modified_since_the_cursor(api):
    replay.replay_sync(api, run=1)
    first = hubspot.provider.fetch(TOKENS, "companies", cursor="", page=None)
    last = hubspot.provider.fetch(TOKENS, "companies", cursor=first.cursor, page=first.next_page)
    api.clear()
    replay.replay_sync(api, run=2)
    again = hubspot.provider.fetch(TOKENS, "companies", cursor=last.cursor, page=None)
    assert again.records == []
    assert again.cursor == last.cursor  # an empty page keeps the cursor
    search = replay.calls(api, "/crm/v3/objects/companies/search")[0]
    stamp = datetime(2024, 9, 13, 20, 23, 3, 333000, tzinfo=UTC)
    assert search["filterGroups"] == [
        {
            "filters": [
                {
                    "propertyName": "hs_lastmodifieddate",
                    "operator": "GTE",
                    "value": str(int(stamp.timestamp() * 1000)),
                }
            ]
        }
    ]
    assert "after" not in search


def test_search_window_restarts_from_the_newest_stamp(api):
    page1 = replay.recording("companies_search_page1")["response"]["body"]
    page1["paging"]["next"]["after"] = "9950"
    api.expect_request("/crm/v3/objects/companies/search").respond_with_json(page1)
    page = hubspot.provider.fetch(TOKENS, "companies", cursor="", page="0:9900")
    newest = max(r.modified_at for r in page.records)
    assert page.next_page == f"{int(newest.timestamp() * 1000)}:"


def test_contacts(api):
    replay.replay_sync(api, run=1)
    page = hubspot.provider.fetch(TOKENS, "contacts", cursor="", page=None)
    assert tuple(c.email for c in page.records) == replay.CONTACT_EMAILS
    assert page.records[0] == Contact(
        external_id="100451",
        email="testperson@hubspot.com",
        first_name="Test",
        last_name="Person",
        title="VP Marketing",
        company_id="2810868468",
        owner_id=replay.OWNER_ID,
        modified_at=datetime(2024, 9, 11, 13, 27, 39, 356000, tzinfo=UTC),
    )
    assert page.cursor == "2024-10-21T21:36:02.961Z"
    sort = replay.calls(api, "/crm/v3/objects/contacts/search")[0]["sorts"]
    assert sort == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]


def test_deals_with_their_companies_then_won(api):
    replay.replay_sync(api, run=1)
    page = hubspot.provider.fetch(TOKENS, "deals", cursor="", page=None)
    assert tuple(d.external_id for d in page.records) == replay.DEAL_IDS
    open_deal = page.records[1]
    assert open_deal == Deal(
        external_id=replay.OPEN_DEAL_ID,
        name="Basic deal",
        amount=Decimal("20"),
        stage="presentationscheduled",
        stage_label="Presentation Scheduled",
        close_date=date(2022, 9, 30),
        company_id=replay.OPEN_DEAL_COMPANY_ID,
        owner_id=replay.OWNER_ID,
        modified_at=datetime(2022, 9, 13, 13, 48, 43, 97000, tzinfo=UTC),
    )
    assert page.records[2].company_id == "2823023532"  # the primary company, not the first
    assert page.records[0].company_id == ""
    asked = replay.calls(api, "/crm/v4/associations/deals/companies/batch/read")[0]
    assert asked == {"inputs": [{"id": i} for i in replay.DEAL_IDS]}
    api.clear()
    replay.replay_sync(api, run=3)
    won = hubspot.provider.fetch(TOKENS, "deals", cursor=page.cursor, page=None).records[0]
    assert (won.external_id, won.is_closed, won.is_won) == (replay.OPEN_DEAL_ID, True, True)
    assert (won.stage, won.amount) == ("closedwon", replay.WON_AMOUNT)


def test_rate_limited_with_retry_after(api):
    fail_with(api, "rate_limited_429")
    with pytest.raises(RetryLater) as raised:
        hubspot.provider.fetch(TOKENS, "contacts", cursor="", page=None)
    assert raised.value.seconds == 10


def test_server_error_is_retry_later(api):
    fail_with(api, "server_error_502")
    with pytest.raises(RetryLater) as raised:
        hubspot.provider.fetch(TOKENS, "owners", cursor="", page=None)
    assert raised.value.seconds is None


def test_no_answer_is_retry_later(settings):
    settings.HUBSPOT_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(RetryLater):
        hubspot.provider.fetch(TOKENS, "companies", cursor="", page=None)


# --- Writing ----------------------------------------------------------------------------


def test_referral_push_sends_owner_and_advocate(api):
    replay.replay_push(api)
    pushed = hubspot.provider.referral_push(TOKENS, REFERRAL)
    assert pushed.contact_id == replay.CREATED_CONTACT_ID
    assert pushed.deal_id == replay.OPEN_DEAL_ID
    assert pushed.fields_missing == ()
    contact = replay.calls(api, "/crm/v3/objects/contacts")[0]["properties"]
    assert contact["email"] == "ada@analytical.example"
    assert contact["hubspot_owner_id"] == replay.OWNER_ID
    deal = replay.calls(api, "/crm/v3/objects/deals")[0]
    props = deal["properties"]
    assert props["hubspot_owner_id"] == replay.OWNER_ID
    assert (props["pipeline"], props["dealstage"]) == ("default", "appointmentscheduled")
    assert "Grace Hopper <grace@navy.example>" in props["description"]
    assert props["vouch_advocate_email"] == "grace@navy.example"
    assert props["vouch_referral_id"] == "42"
    assert deal["associations"] == [
        {
            "to": {"id": replay.CREATED_CONTACT_ID},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
        }
    ]


def test_referral_push_reuses_the_existing_contact(api):
    replay.replay_push(api, existing_contact=True)
    pushed = hubspot.provider.referral_push(TOKENS, REFERRAL)
    assert pushed.contact_id == replay.EXISTING_CONTACT_ID
    deal = replay.calls(api, "/crm/v3/objects/deals")[0]
    assert deal["associations"][0]["to"] == {"id": replay.EXISTING_CONTACT_ID}
    assert len(replay.calls(api, "/crm/v3/objects/contacts")) == 1


def test_referral_push_without_custom_properties_reports_them(api):
    replay.replay_push(api, fields_missing=True)
    pushed = hubspot.provider.referral_push(TOKENS, REFERRAL)
    assert pushed.deal_id == replay.OPEN_DEAL_ID
    assert pushed.fields_missing == ("vouch_advocate_email", "vouch_referral_id")
    first, second = (d["properties"] for d in replay.calls(api, "/crm/v3/objects/deals"))
    assert "vouch_advocate_email" in first
    assert "vouch_advocate_email" not in second
    assert "vouch_referral_id" not in second
    assert "grace@navy.example" in second["description"]
    assert second["hubspot_owner_id"] == replay.OWNER_ID


def test_company_write_sends_advocacy(api):
    replay.replay_company_write(api)
    advocacy = Advocacy(advocates=3, references_given=5, referrals=2, referrals_won=1, ams=None)
    hubspot.provider.company_write(TOKENS, "2810868468", advocacy)
    sent = replay.calls(api, "/crm/v3/objects/companies/2810868468")[0]
    assert sent == {
        "properties": {
            "vouch_advocates": "3",
            "vouch_references_given": "5",
            "vouch_referrals": "2",
            "vouch_referrals_won": "1",
            "vouch_ams": "",
        }
    }


def test_company_write_unknown_property_is_field_missing(api):
    replay.replay_company_write(api, outcome="missing")
    advocacy = Advocacy(advocates=1, references_given=0, referrals=0, referrals_won=0, ams=71)
    with pytest.raises(FieldMissing) as raised:
        hubspot.provider.company_write(TOKENS, "2810868468", advocacy)
    assert raised.value.fields == ("vouch_ams",)


def test_deal_write_on_a_deleted_deal_is_record_gone(api):
    replay.replay_deal_write(api, outcome="gone")
    with pytest.raises(RecordGone) as raised:
        hubspot.provider.deal_write(
            TOKENS, "10123889765", Influence(reference_calls=2, advocates="Grace")
        )
    assert raised.value.external_id == "10123889765"


def test_deal_write_sends_influence(api):
    replay.replay_deal_write(api)
    hubspot.provider.deal_write(
        TOKENS, "10123889765", Influence(reference_calls=2, advocates="Grace, Ada")
    )
    sent = replay.calls(api, "/crm/v3/objects/deals/10123889765")[0]
    assert sent == {
        "properties": {"vouch_reference_calls": "2", "vouch_reference_advocates": "Grace, Ada"}
    }


def test_stage_map_covers_the_default_pipelines_open_stages():
    assert hubspot.provider.stage_map == {
        "appointmentscheduled": "submitted",
        "qualifiedtobuy": "qualified",
        "presentationscheduled": "opportunity",
        "decisionmakerboughtin": "opportunity",
        "contractsent": "opportunity",
    }


def test_bare_domain():
    assert hubspot.bare_domain("https://www.Acme.com/about") == "acme.com"
    assert hubspot.bare_domain("acme.io") == "acme.io"
    assert hubspot.bare_domain("") == ""


# --- Batch writes -----------------------------------------------------------------------

GOOGLE, PEPSI = replay.BATCH_WRITTEN["companies"]
GONE_COMPANY = replay.BATCH_GONE["companies"]
ADVOCACY = {
    GOOGLE: Advocacy(advocates=3, references_given=5, referrals=2, referrals_won=1, ams=None),
    PEPSI: Advocacy(advocates=1, references_given=0, referrals=0, referrals_won=0, ams=71),
    GONE_COMPANY: Advocacy(advocates=2, references_given=1, referrals=1, referrals_won=0, ams=40),
}
OPEN_DEAL, OTHER_DEAL = replay.BATCH_WRITTEN["deals"]
GONE_DEAL = replay.BATCH_GONE["deals"]
INFLUENCE = {
    OPEN_DEAL: Influence(reference_calls=2, advocates="Grace, Ada"),
    OTHER_DEAL: Influence(reference_calls=1, advocates="Ada"),
    GONE_DEAL: Influence(reference_calls=3, advocates="Grace"),
}
COMPANIES_BATCH = "/crm/v3/objects/companies/batch/update"
DEALS_BATCH = "/crm/v3/objects/deals/batch/update"


def test_batch_size_is_hubspots_limit():
    assert hubspot.provider.batch_size == 100


def test_companies_write_sends_every_item_in_one_call(api):
    replay.replay_companies_write(api)
    written = hubspot.provider.companies_write(
        TOKENS, [(GOOGLE, ADVOCACY[GOOGLE]), (PEPSI, ADVOCACY[PEPSI])]
    )
    assert written == {GOOGLE: None, PEPSI: None}
    (sent,) = replay.calls(api, COMPANIES_BATCH)
    assert sent == {
        "inputs": [
            {
                "id": GOOGLE,
                "objectWriteTraceId": GOOGLE,
                "properties": {
                    "vouch_advocates": "3",
                    "vouch_references_given": "5",
                    "vouch_referrals": "2",
                    "vouch_referrals_won": "1",
                    "vouch_ams": "",
                },
            },
            {
                "id": PEPSI,
                "objectWriteTraceId": PEPSI,
                "properties": {
                    "vouch_advocates": "1",
                    "vouch_references_given": "0",
                    "vouch_referrals": "0",
                    "vouch_referrals_won": "0",
                    "vouch_ams": "71",
                },
            },
        ]
    }


def test_deals_write_sends_every_item_in_one_call(api):
    replay.replay_deals_write(api)
    items = [(OPEN_DEAL, INFLUENCE[OPEN_DEAL]), (OTHER_DEAL, INFLUENCE[OTHER_DEAL])]
    assert hubspot.provider.deals_write(TOKENS, items) == {OPEN_DEAL: None, OTHER_DEAL: None}
    (sent,) = replay.calls(api, DEALS_BATCH)
    assert sent["inputs"] == [
        {
            "id": OPEN_DEAL,
            "objectWriteTraceId": OPEN_DEAL,
            "properties": {"vouch_reference_calls": "2", "vouch_reference_advocates": "Grace, Ada"},
        },
        {
            "id": OTHER_DEAL,
            "objectWriteTraceId": OTHER_DEAL,
            "properties": {"vouch_reference_calls": "1", "vouch_reference_advocates": "Ada"},
        },
    ]


def test_companies_write_a_deleted_company_is_record_gone_for_it_only(api):
    replay.replay_companies_write(api, outcome="partial")
    written = hubspot.provider.companies_write(TOKENS, list(ADVOCACY.items()))
    assert written[GOOGLE] is None
    assert written[PEPSI] is None
    gone = written[GONE_COMPANY]
    assert isinstance(gone, RecordGone)
    assert gone.external_id == GONE_COMPANY
    assert [i["id"] for i in replay.calls(api, COMPANIES_BATCH)[0]["inputs"]] == list(ADVOCACY)


def test_deals_write_a_deleted_deal_is_record_gone_for_it_only(api):
    replay.replay_deals_write(api, outcome="partial")
    written = hubspot.provider.deals_write(TOKENS, list(INFLUENCE.items()))
    assert (written[OPEN_DEAL], written[OTHER_DEAL]) == (None, None)
    assert isinstance(written[GONE_DEAL], RecordGone)
    assert written[GONE_DEAL].external_id == GONE_DEAL


def test_companies_write_missing_property_is_field_missing_for_every_item(api):
    # HubSpot refuses the whole batch (400): nothing was written, and the cause (the portal
    # lacks the property) is every record's, so each one reports it instead of the call
    # raising: only TokenExpired/AuthRevoked/RetryLater are whole-call problems to the sync.
    replay.replay_companies_write(api, outcome="missing")
    written = hubspot.provider.companies_write(TOKENS, list(ADVOCACY.items()))
    assert set(written) == set(ADVOCACY)
    for problem in written.values():
        assert isinstance(problem, FieldMissing)
        assert problem.fields == ("vouch_ams",)


def test_deals_write_missing_properties_names_them(api):
    replay.replay_deals_write(api, outcome="missing")
    written = hubspot.provider.deals_write(TOKENS, list(INFLUENCE.items()))
    for problem in written.values():
        assert isinstance(problem, FieldMissing)
        assert problem.fields == ("vouch_reference_calls", "vouch_reference_advocates")


def test_batch_write_rate_limited_is_retry_later(api):
    fail_with(api, "rate_limited_429")
    with pytest.raises(RetryLater) as raised:
        hubspot.provider.companies_write(TOKENS, list(ADVOCACY.items()))
    assert raised.value.seconds == 10


def test_batch_write_expired_token_is_token_expired(api):
    fail_with(api, "expired_401")
    with pytest.raises(TokenExpired):
        hubspot.provider.deals_write(TOKENS, list(INFLUENCE.items()))


def test_batch_write_a_record_hubspot_leaves_out_is_not_reported_written(api):
    # The recorded 200 lists GOOGLE and PEPSI only: a third id it does not mention was not
    # written (HubSpot names each written record in `results`).
    replay.replay_companies_write(api)
    written = hubspot.provider.companies_write(TOKENS, list(ADVOCACY.items()))
    assert (written[GOOGLE], written[PEPSI]) == (None, None)
    assert isinstance(written[GONE_COMPANY], CrmError)
