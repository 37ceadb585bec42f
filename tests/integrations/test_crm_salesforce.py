"""The Salesforce provider against recorded exchanges of Salesforce's API
(tests/integrations/recordings/salesforce/README.md says where each one comes from)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.crm import salesforce
from integrations.crm.base import (
    Advocacy,
    AuthRevoked,
    Company,
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
from integrations.crm.salesforce import provider
from tests.integrations import crm_salesforce_replay as replay
from tests.integrations.crm_salesforce_replay import TOKEN_URL, TOKENS, answer, api_url

QUERY_URL = "https://na1.salesforce.com/services/data/v62.0/query/"
CLIENT_ID = "3MVG9lKcPoNINVBIPJjdw1J9LLM82HnFVVX19KY1uA5mu0QqEWhqKpoW3svG3X"


@pytest.fixture
def configured(settings, tmp_path: Path) -> rsa.RSAPrivateKey:
    settings.SALESFORCE_CLIENT_ID = CLIENT_ID
    settings.SALESFORCE_CLIENT_SECRET = "client-secret-for-tests"
    settings.SALESFORCE_LOGIN_URL = "https://login.salesforce.com"
    settings.SALESFORCE_API_VERSION = "62.0"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "salesforce.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings.SALESFORCE_JWT_USERNAME = "integration@vouch.example"
    settings.SALESFORCE_JWT_PRIVATE_KEY_FILE = str(key_file)
    return key


@pytest.fixture
def api(configured: rsa.RSAPrivateKey) -> Iterator[responses.RequestsMock]:
    # Every registered answer must be asked for, and nothing else goes out.
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def form(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def soql_of(call: Any) -> str:
    return parse_qs(urlsplit(call.request.url).query)["q"][0]


def body_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


def posts_to(api: responses.RequestsMock, sobject: str) -> list[dict[str, Any]]:
    return [
        body_of(c)
        for c in api.calls
        if c.request.method == "POST" and c.request.url == api_url(f"sobjects/{sobject}/")
    ]


# --- connecting -----------------------------------------------------------------------


def test_authorize_url_asks_consent_at_the_login_host(configured: rsa.RSAPrivateKey) -> None:
    url = provider.authorize_url(state="s-123", redirect_uri="https://vouch.example/crm/back/")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://login.salesforce.com/services/oauth2/authorize"
    )
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": ["https://vouch.example/crm/back/"],
        "scope": ["api refresh_token"],
        "state": ["s-123"],
    }


def test_exchange_code_maps_the_token_answer(api: responses.RequestsMock) -> None:
    replay.replay_connect(api)

    tokens = provider.exchange_code(code="aPrxsmIEeqM9", redirect_uri="https://vouch.example/back/")

    assert tokens == TOKENS
    # The org id is the first part of the identity URL; Salesforce gives no lifetime.
    assert tokens.account_id == "00Dx0000000BV7z"
    assert tokens.expires_at is None
    assert form(api.calls[0]) == {
        "grant_type": "authorization_code",
        "code": "aPrxsmIEeqM9",
        "client_id": CLIENT_ID,
        "client_secret": "client-secret-for-tests",
        "redirect_uri": "https://vouch.example/back/",
    }


def test_a_refused_code_is_an_error_with_salesforces_words(api: responses.RequestsMock) -> None:
    answer(api, "POST", TOKEN_URL, "token_code_invalid_grant")

    with pytest.raises(CrmError, match="authentication failure - Invalid Password"):
        provider.exchange_code(code="used-twice", redirect_uri="https://vouch.example/back/")


def test_refresh_gets_a_new_access_token_and_keeps_the_refresh_token(
    api: responses.RequestsMock,
) -> None:
    answer(api, "POST", TOKEN_URL, "token_refresh")

    tokens = provider.refresh(TOKENS)

    assert tokens.access_token == "refreshed_access_token"
    assert tokens.refresh_token == TOKENS.refresh_token
    assert tokens.instance_url == "https://na1.salesforce.com"
    assert form(api.calls[0])["grant_type"] == "refresh_token"
    assert form(api.calls[0])["refresh_token"] == TOKENS.refresh_token


def test_a_refused_refresh_means_reconnecting(api: responses.RequestsMock) -> None:
    answer(api, "POST", TOKEN_URL, "token_refresh_invalid_grant")

    with pytest.raises(AuthRevoked, match="expired access/refresh token"):
        provider.refresh(TOKENS)


def test_jwt_connect_signs_a_grant_for_the_integration_user(
    api: responses.RequestsMock, configured: rsa.RSAPrivateKey
) -> None:
    answer(api, "POST", TOKEN_URL, "token_jwt_bearer")

    tokens = salesforce.jwt_connect()

    assert tokens.access_token == "new_access_token"
    assert tokens.refresh_token == ""
    sent = form(api.calls[0])
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        sent["assertion"],
        configured.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
    )
    assert claims["iss"] == CLIENT_ID
    assert claims["sub"] == "integration@vouch.example"


def test_refresh_on_a_jwt_connection_issues_a_new_grant(api: responses.RequestsMock) -> None:
    answer(api, "POST", TOKEN_URL, "token_jwt_bearer")

    tokens = provider.refresh(Tokens(access_token="old", instance_url="https://na1.salesforce.com"))

    assert tokens.access_token == "new_access_token"
    assert "assertion" in form(api.calls[0])


def test_a_refused_jwt_grant_means_reconnecting(api: responses.RequestsMock) -> None:
    answer(api, "POST", TOKEN_URL, "token_refresh_invalid_grant")

    with pytest.raises(AuthRevoked):
        provider.refresh(Tokens(access_token="old", instance_url="https://na1.salesforce.com"))


# --- reading --------------------------------------------------------------------------


def test_owners_are_standard_users_normalized(api: responses.RequestsMock) -> None:
    replay.answer_query(api, salesforce.soql("owners", ""), "query_users")

    page = provider.fetch(TOKENS, "owners", cursor="", page=None)

    assert soql_of(api.calls[0]) == (
        "SELECT Id, Email, FirstName, LastName, IsActive, SystemModstamp FROM User"
        " WHERE UserType = 'Standard' ORDER BY SystemModstamp, Id"
    )
    assert page.records == [
        Owner(
            external_id=replay.OWNER_ID,
            email=replay.OWNER_EMAIL,
            first_name="User",
            last_name="User",
        )
    ]
    assert page.cursor == "2020-04-23T17:17:57.000+0000"
    assert page.next_page is None


def test_companies_come_over_two_pages(api: responses.RequestsMock) -> None:
    replay.answer_query(api, salesforce.soql("companies", ""), "query_accounts_page1")
    answer(api, "GET", QUERY_URL + "01gD0000002HU6KIAW-2000", "query_accounts_page2")

    first = provider.fetch(TOKENS, "companies", cursor="", page=None)
    second = provider.fetch(TOKENS, "companies", cursor=first.cursor, page=first.next_page)

    assert first.next_page == "/services/data/v62.0/query/01gD0000002HU6KIAW-2000"
    assert first.records == [
        Company(
            external_id=replay.COMPANY_IDS[0],
            name="Burlington Textiles Corp of America",
            domain="burlington.com",
            industry="Apparel",
            employees=9000,
            owner_id=replay.OWNER_ID,
            modified_at=datetime(2020, 4, 23, 17, 2, 18, tzinfo=UTC),
        )
    ]
    assert first.cursor == "2020-04-23T17:02:18.000+0000"
    # The second page is the locator's URL, asked without parameters.
    assert api.calls[1].request.url == QUERY_URL + "01gD0000002HU6KIAW-2000"
    assert [c.domain for c in second.records if isinstance(c, Company)] == ["edgecomm.com"]
    assert second.cursor == "2020-04-23T17:02:19.000+0000"
    assert second.next_page is None


def test_deals_normalized_with_decimal_amounts_and_dates(api: responses.RequestsMock) -> None:
    replay.answer_query(api, salesforce.soql("deals", ""), "query_opportunities")

    page = provider.fetch(TOKENS, "deals", cursor="", page=None)

    won, open_deal = page.records
    assert won == Deal(
        external_id=replay.WON_DEAL_ID,
        name="Burlington Textiles Weaving Plant Generator",
        amount=Decimal("235000.0"),
        stage="Closed Won",
        stage_label="Closed Won",
        is_closed=True,
        is_won=True,
        close_date=date(2020, 4, 23),
        company_id=replay.COMPANY_IDS[0],
        owner_id=replay.OWNER_ID,
        modified_at=datetime(2020, 4, 23, 17, 2, 18, tzinfo=UTC),
    )
    assert isinstance(open_deal, Deal)
    assert open_deal.amount == Decimal("35000")
    assert (open_deal.stage, open_deal.is_closed) == ("Id. Decision Makers", False)
    assert provider.stage_map.get(open_deal.stage) == "opportunity"


def test_contacts_normalized(api: responses.RequestsMock) -> None:
    replay.answer_query(api, salesforce.soql("contacts", ""), "query_contacts")

    page = provider.fetch(TOKENS, "contacts", cursor="", page=None)

    assert [(c.email, c.title, c.company_id) for c in page.records] == [  # type: ignore[union-attr]
        ("jrogers@burlington.com", "VP, Facilities", replay.COMPANY_IDS[0]),
        ("rose@edge.com", "SVP, Procurement", replay.COMPANY_IDS[1]),
    ]


def test_the_cursor_round_trips_to_ask_only_for_newer_records(api: responses.RequestsMock) -> None:
    replay.answer_query(api, salesforce.soql("deals", ""), "query_opportunities")
    replay.answer_query(
        api,
        "SELECT Id, Name, Amount, StageName, IsClosed, IsWon, CloseDate, AccountId, OwnerId,"
        " SystemModstamp FROM Opportunity WHERE SystemModstamp > 2020-04-23T17:02:22Z"
        " ORDER BY SystemModstamp, Id",
        "query_empty",
    )

    first = provider.fetch(TOKENS, "deals", cursor="", page=None)
    second = provider.fetch(TOKENS, "deals", cursor=first.cursor, page=None)

    assert first.cursor == "2020-04-23T17:02:22.000+0000"
    assert "WHERE" not in soql_of(api.calls[0])
    assert "WHERE SystemModstamp > 2020-04-23T17:02:22Z " in soql_of(api.calls[1])
    # Nothing changed: the cursor stays where it was.
    assert second.records == []
    assert second.cursor == first.cursor


@pytest.mark.parametrize(
    ("name", "problem", "seconds"),
    [
        ("session_expired_401", TokenExpired, None),
        ("request_limit_403", RetryLater, None),
        ("rate_limit_429_stand_in", RetryLater, 120),
        ("server_error_503", RetryLater, None),
    ],
)
def test_refusals_of_a_read(
    api: responses.RequestsMock, name: str, problem: type[Exception], seconds: int | None
) -> None:
    answer(api, "GET", QUERY_URL, name)

    with pytest.raises(problem) as raised:
        provider.fetch(TOKENS, "companies", cursor="", page=None)

    if isinstance(raised.value, RetryLater):
        assert raised.value.seconds == seconds


def test_no_answer_is_retry_later(api: responses.RequestsMock) -> None:
    api.add("GET", QUERY_URL, body=requests.ConnectionError("connection reset"))

    with pytest.raises(RetryLater):
        provider.fetch(TOKENS, "owners", cursor="", page=None)


# --- writing --------------------------------------------------------------------------


def referral(**changes: Any) -> ReferralOut:
    values: dict[str, Any] = {
        "referral_id": 812,
        "first_name": "Dana",
        "last_name": "Whitfield",
        "email": "dana.whitfield@edgecomm.com",
        "company_name": "Edge Communications",
        "title": "Head of Facilities",
        "note": "Replacing their backup generators this year.",
        "advocate_name": "Rose Gonzalez",
        "advocate_email": "rose@edge.com",
        "owner_id": replay.OWNER_ID,
        "company_id": replay.COMPANY_IDS[1],
    }
    return ReferralOut(**(values | changes))


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(salesforce.writes, "_today", lambda: date(2026, 3, 2))


def test_a_referral_becomes_a_contact_and_an_opportunity_owned_by_the_rep(
    api: responses.RequestsMock, today: None
) -> None:
    replay.replay_push(api)

    pushed = provider.referral_push(TOKENS, referral())

    assert pushed.contact_id == replay.NEW_CONTACT_ID
    assert pushed.deal_id == replay.OPEN_DEAL_ID
    assert pushed.fields_missing == ()
    assert soql_of(api.calls[0]) == (
        "SELECT Id, AccountId FROM Contact WHERE Email = 'dana.whitfield@edgecomm.com'"
        " ORDER BY CreatedDate LIMIT 1"
    )
    [contact] = posts_to(api, "Contact")
    assert contact["OwnerId"] == replay.OWNER_ID
    assert contact["AccountId"] == replay.COMPANY_IDS[1]
    assert contact["LeadSource"] == "External Referral"
    assert "Rose Gonzalez (rose@edge.com)" in contact["Description"]
    [opportunity] = posts_to(api, "Opportunity")
    assert opportunity == {
        "Name": "Edge Communications (referral)",
        "StageName": "Prospecting",
        "CloseDate": "2026-05-31",
        "LeadSource": "External Referral",
        "Description": "Referred by Rose Gonzalez (rose@edge.com) through Vouch.\n\n"
        "Replacing their backup generators this year.",
        "Vouch_Advocate_Email__c": "rose@edge.com",
        "Vouch_Referral_Id__c": "812",
        "OwnerId": replay.OWNER_ID,
        "AccountId": replay.COMPANY_IDS[1],
    }
    assert posts_to(api, "OpportunityContactRole") == [
        {
            "OpportunityId": replay.OPEN_DEAL_ID,
            "ContactId": replay.NEW_CONTACT_ID,
            "IsPrimary": True,
        }
    ]


def test_an_existing_contact_with_the_email_is_reused(
    api: responses.RequestsMock, today: None
) -> None:
    replay.replay_push(api, existing_contact=True)

    pushed = provider.referral_push(TOKENS, referral(email="jrogers@burlington.com", company_id=""))

    assert pushed.contact_id == replay.EXISTING_CONTACT_ID
    assert posts_to(api, "Contact") == []
    # The opportunity goes on the found contact's account.
    [opportunity] = posts_to(api, "Opportunity")
    assert opportunity["AccountId"] == replay.COMPANY_IDS[0]
    [role] = posts_to(api, "OpportunityContactRole")
    assert role["ContactId"] == replay.EXISTING_CONTACT_ID


def test_a_custom_field_the_admin_has_not_created_is_left_out_and_reported(
    api: responses.RequestsMock, today: None
) -> None:
    replay.replay_push(api, missing_field=True)

    pushed = provider.referral_push(TOKENS, referral())

    first, second = posts_to(api, "Opportunity")
    assert first["Vouch_Advocate_Email__c"] == "rose@edge.com"
    assert "Vouch_Advocate_Email__c" not in second
    assert second["Vouch_Referral_Id__c"] == "812"
    assert second["Description"].startswith("Referred by Rose Gonzalez")
    assert pushed.fields_missing == ("Vouch_Advocate_Email__c",)
    assert pushed.deal_id == replay.OPEN_DEAL_ID


def test_a_referral_without_an_owner_sends_none(api: responses.RequestsMock, today: None) -> None:
    replay.replay_push(api)

    provider.referral_push(TOKENS, referral(owner_id=""))

    assert "OwnerId" not in posts_to(api, "Contact")[0]
    assert "OwnerId" not in posts_to(api, "Opportunity")[0]


ADVOCACY = Advocacy(advocates=3, references_given=5, referrals=4, referrals_won=1, ams=78)


def test_company_write_sets_the_account_fields(api: responses.RequestsMock) -> None:
    replay.replay_company_write(api)

    provider.company_write(TOKENS, replay.COMPANY_IDS[0], ADVOCACY)

    call = api.calls[0]
    assert (call.request.method, call.request.url) == (
        "PATCH",
        api_url(f"sobjects/Account/{replay.COMPANY_IDS[0]}"),
    )
    assert body_of(call) == {
        "Vouch_Advocates__c": 3,
        "Vouch_References_Given__c": 5,
        "Vouch_Referrals__c": 4,
        "Vouch_Referrals_Won__c": 1,
        "Vouch_AMS__c": 78,
    }


def test_company_write_to_a_missing_field(api: responses.RequestsMock) -> None:
    replay.replay_company_write(api, outcome="field_missing")

    with pytest.raises(FieldMissing) as raised:
        provider.company_write(TOKENS, replay.COMPANY_IDS[0], ADVOCACY)

    assert raised.value.fields == ("Vouch_AMS__c",)


@pytest.mark.parametrize("name", ["entity_is_deleted_404", "not_found_404"])
def test_company_write_to_a_deleted_account(api: responses.RequestsMock, name: str) -> None:
    answer(api, "PATCH", api_url(f"sobjects/Account/{replay.COMPANY_IDS[1]}"), name)

    with pytest.raises(RecordGone) as raised:
        provider.company_write(TOKENS, replay.COMPANY_IDS[1], ADVOCACY)

    assert raised.value.external_id == replay.COMPANY_IDS[1]


def test_another_refusal_carries_salesforces_message(api: responses.RequestsMock) -> None:
    answer(api, "PATCH", api_url("sobjects/Account/001900K0001pPuOAAU"), "malformed_id_400")

    with pytest.raises(CrmError, match="MALFORMED_ID: Account ID: id value of incorrect type"):
        provider.company_write(TOKENS, "001900K0001pPuOAAU", ADVOCACY)


def test_deal_write_sets_the_opportunity_fields(api: responses.RequestsMock) -> None:
    replay.replay_deal_write(api)

    provider.deal_write(
        TOKENS,
        replay.OPEN_DEAL_ID,
        Influence(reference_calls=2, advocates="Rose Gonzalez, Jack Rogers"),
    )

    assert body_of(api.calls[0]) == {
        "Vouch_Reference_Calls__c": 2,
        "Vouch_Reference_Advocates__c": "Rose Gonzalez, Jack Rogers",
    }


def test_deal_write_to_a_missing_field(api: responses.RequestsMock) -> None:
    replay.replay_deal_write(api, outcome="field_missing")

    with pytest.raises(FieldMissing) as raised:
        provider.deal_write(
            TOKENS, replay.OPEN_DEAL_ID, Influence(reference_calls=1, advocates="Rose Gonzalez")
        )

    assert raised.value.fields == ("Vouch_Reference_Calls__c",)


def test_deal_write_to_a_deleted_opportunity(api: responses.RequestsMock) -> None:
    replay.replay_deal_write(api, outcome="gone")

    with pytest.raises(RecordGone):
        provider.deal_write(
            TOKENS, replay.WON_DEAL_ID, Influence(reference_calls=1, advocates="Rose Gonzalez")
        )


# --- batch writes: sObject Collections ------------------------------------------------

COLLECTIONS_URL = api_url("composite/sobjects")
OTHER_ADVOCACY = Advocacy(advocates=1, references_given=0, referrals=2, referrals_won=0, ams=None)
COMPANY_ITEMS = [(replay.COMPANY_IDS[0], ADVOCACY), (replay.COMPANY_IDS[1], OTHER_ADVOCACY)]
DEAL_ITEMS = [
    (replay.WON_DEAL_ID, Influence(reference_calls=2, advocates="Rose Gonzalez, Jack Rogers")),
    (replay.OPEN_DEAL_ID, Influence(reference_calls=1, advocates="Rose Gonzalez")),
]


def test_batch_size_is_the_collections_limit() -> None:
    assert provider.batch_size == 200


def test_companies_write_sends_every_account_in_one_call(api: responses.RequestsMock) -> None:
    replay.replay_companies_write(api)

    result = provider.companies_write(TOKENS, COMPANY_ITEMS)

    assert result == {replay.COMPANY_IDS[0]: None, replay.COMPANY_IDS[1]: None}
    [call] = api.calls
    assert (call.request.method, call.request.url) == ("PATCH", COLLECTIONS_URL)
    assert body_of(call) == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Account"},
                "id": replay.COMPANY_IDS[0],
                "Vouch_Advocates__c": 3,
                "Vouch_References_Given__c": 5,
                "Vouch_Referrals__c": 4,
                "Vouch_Referrals_Won__c": 1,
                "Vouch_AMS__c": 78,
            },
            {
                "attributes": {"type": "Account"},
                "id": replay.COMPANY_IDS[1],
                "Vouch_Advocates__c": 1,
                "Vouch_References_Given__c": 0,
                "Vouch_Referrals__c": 2,
                "Vouch_Referrals_Won__c": 0,
                # No advocate with a score: the field is blanked, not left as it was.
                "Vouch_AMS__c": None,
            },
        ],
    }


def test_deals_write_sends_every_opportunity_in_one_call(api: responses.RequestsMock) -> None:
    replay.replay_deals_write(api)

    result = provider.deals_write(TOKENS, DEAL_ITEMS)

    assert result == {replay.WON_DEAL_ID: None, replay.OPEN_DEAL_ID: None}
    assert body_of(api.calls[0]) == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Opportunity"},
                "id": replay.WON_DEAL_ID,
                "Vouch_Reference_Calls__c": 2,
                "Vouch_Reference_Advocates__c": "Rose Gonzalez, Jack Rogers",
            },
            {
                "attributes": {"type": "Opportunity"},
                "id": replay.OPEN_DEAL_ID,
                "Vouch_Reference_Calls__c": 1,
                "Vouch_Reference_Advocates__c": "Rose Gonzalez",
            },
        ],
    }


def test_a_deleted_account_is_gone_and_the_other_written(api: responses.RequestsMock) -> None:
    replay.replay_companies_write(api, outcome="partial")

    result = provider.companies_write(TOKENS, COMPANY_ITEMS)

    # The failed SaveResult carries no id: it is the second record's by its position.
    assert result[replay.COMPANY_IDS[0]] is None
    gone = result[replay.COMPANY_IDS[1]]
    assert isinstance(gone, RecordGone)
    assert gone.external_id == replay.COMPANY_IDS[1]
    assert "ENTITY_IS_DELETED" in str(gone)


def test_a_deleted_opportunity_is_gone_and_the_other_written(
    api: responses.RequestsMock,
) -> None:
    replay.replay_deals_write(api, outcome="partial")

    result = provider.deals_write(TOKENS, DEAL_ITEMS)

    assert isinstance(result[replay.WON_DEAL_ID], RecordGone)
    assert result[replay.OPEN_DEAL_ID] is None


def test_a_missing_account_field_is_every_items_problem(api: responses.RequestsMock) -> None:
    # Salesforce refuses the whole call (400): nothing was written, and the field is
    # missing for every account alike, so each item says so (nothing is raised).
    replay.replay_companies_write(api, outcome="missing")

    result = provider.companies_write(TOKENS, COMPANY_ITEMS)

    assert set(result) == set(replay.COMPANY_IDS)
    for problem in result.values():
        assert isinstance(problem, FieldMissing)
        assert problem.fields == ("Vouch_AMS__c",)


def test_a_missing_opportunity_field_is_every_items_problem(
    api: responses.RequestsMock,
) -> None:
    replay.replay_deals_write(api, outcome="missing")

    result = provider.deals_write(TOKENS, DEAL_ITEMS)

    assert [p.fields for p in result.values() if isinstance(p, FieldMissing)] == [
        ("Vouch_Reference_Calls__c",),
        ("Vouch_Reference_Calls__c",),
    ]


@pytest.mark.parametrize(
    ("name", "problem", "seconds"),
    [
        ("session_expired_401", TokenExpired, None),
        ("request_limit_403", RetryLater, None),
        ("rate_limit_429_stand_in", RetryLater, 120),
        ("server_error_503", RetryLater, None),
    ],
)
def test_refusals_of_a_batch_write_are_raised(
    api: responses.RequestsMock, name: str, problem: type[Exception], seconds: int | None
) -> None:
    answer(api, "PATCH", COLLECTIONS_URL, name)

    with pytest.raises(problem) as raised:
        provider.companies_write(TOKENS, COMPANY_ITEMS)

    if isinstance(raised.value, RetryLater):
        assert raised.value.seconds == seconds


def test_an_empty_batch_asks_nothing(api: responses.RequestsMock) -> None:
    assert provider.companies_write(TOKENS, []) == {}
    assert provider.deals_write(TOKENS, []) == {}
    assert len(api.calls) == 0


def test_more_than_a_batch_is_refused_before_asking(configured: rsa.RSAPrivateKey) -> None:
    items = [(f"001xx00000{n:08d}", ADVOCACY) for n in range(201)]

    with pytest.raises(ValueError, match="At most 200"):
        provider.companies_write(TOKENS, items)


# --- the replay module the sync engine's tests use -------------------------------------


def run_sync(cursors: dict[str, str]) -> dict[str, list[Any]]:
    """Every object, every page, as the sync would; ``cursors`` is updated in place."""
    seen: dict[str, list[Any]] = {}
    for object_name in ("owners", "companies", "contacts", "deals"):
        next_page: str | None = None
        seen[object_name] = []
        while True:
            page = provider.fetch(
                TOKENS, object_name, cursor=cursors.get(object_name, ""), page=next_page
            )
            seen[object_name] += page.records
            cursors[object_name] = page.cursor
            next_page = page.next_page
            if next_page is None:
                break
    return seen


def test_the_replayed_sync_runs_one_two_three(configured: rsa.RSAPrivateKey) -> None:
    cursors: dict[str, str] = {}
    with responses.RequestsMock() as api:
        replay.replay_sync(api, run=1)
        first = run_sync(cursors)
    assert cursors == replay.CURSORS
    assert [o.email for o in first["owners"]] == [replay.OWNER_EMAIL]
    assert tuple(c.external_id for c in first["companies"]) == replay.COMPANY_IDS
    assert tuple(c.email for c in first["contacts"]) == replay.CONTACT_EMAILS
    assert [d.external_id for d in first["deals"]] == [replay.WON_DEAL_ID, replay.OPEN_DEAL_ID]

    with responses.RequestsMock() as api:
        replay.replay_sync(api, run=2)
        second = run_sync(cursors)
    assert all(records == [] for records in second.values())
    assert cursors == replay.CURSORS

    with responses.RequestsMock() as api:
        replay.replay_sync(api, run=3)
        third = run_sync(cursors)
    [won] = third["deals"]
    assert (won.external_id, won.stage, won.is_won, won.amount) == (
        replay.OPEN_DEAL_ID,
        "Closed Won",
        True,
        replay.RUN3_AMOUNT,
    )
    assert cursors["deals"] == replay.RUN3_DEALS_CURSOR


def test_stage_map_covers_the_default_open_stages() -> None:
    assert provider.stage_map["Prospecting"] == "submitted"
    assert provider.stage_map["Qualification"] == "qualified"
    assert provider.stage_map["Negotiation/Review"] == "opportunity"
    assert "Closed Won" not in provider.stage_map
