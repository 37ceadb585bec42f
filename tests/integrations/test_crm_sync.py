"""The CRM sync end to end, for Salesforce and HubSpot alike, against recorded exchanges
of each CRM's API (tests/integrations/recordings/{salesforce,hubspot}/README.md say where
each answer comes from; crm_*_replay.py registers them).

What the issue asks to see: a sync run twice, the second changing nothing; a stage change
in the CRM paying the advocate once; a referral made in Vouch appearing in the outbound
calls with its owner rep. And the failure paths: a refused token refreshed, a refused
refresh breaking the connection, a rate limit pausing the run, a missing custom field
recorded with its name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.urls import reverse

from advocates.models import Company, Person
from integrations.crm import base
from integrations.crm.models import (
    CrmCompany,
    CrmConnection,
    CrmContact,
    CrmDeal,
    CrmOwner,
    DealReferenceRequest,
    RecordError,
    SyncCursor,
    SyncRun,
)
from integrations.crm.sync import sync_run
from integrations.crm.tokens import BOX, tokens_of
from references.models import Ask
from referrals.models import Method, Referral, ReferralReward, RewardRule, Stage
from referrals.services import referral_create
from tests import factories
from tests.integrations import crm_hubspot_replay as hs
from tests.integrations import crm_salesforce_replay as sf
from tests.references.factories import AskFactory

pytestmark = pytest.mark.django_db

# The world as of the recordings: connected, and the referral made, before the CRM's
# recorded changes (a change older than the referral's own stage is ignored as stale).
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)


@dataclass
class Scene:
    """One CRM's recordings behind the same handful of verbs."""

    name: str
    connection: CrmConnection
    mock: Any
    owner_email: str
    owner_id: str
    company_ids: tuple[str, ...]
    contact_emails: tuple[str, ...]
    open_deal_id: str
    won_amount: Decimal
    # The records the recorded batch writes answer for, in the order sent, and the one a
    # partial answer reports deleted.
    company_write_ids: tuple[str, ...]
    gone_company_id: str
    deal_write_ids: tuple[str, ...]

    def load(
        self,
        *,
        run: int,
        push: bool = False,
        company_write: str | None = None,
        deal_write: str | None = None,
    ) -> None:
        """Forget earlier answers and calls; register this run's."""
        replay = sf if self.name == "salesforce" else hs
        if self.name == "salesforce":
            self.mock.reset()
        else:
            self.mock.clear()
        replay.replay_sync(self.mock, run=run)
        if push:
            replay.replay_push(self.mock)
        if company_write:
            replay.replay_companies_write(self.mock, outcome=company_write)
        if deal_write:
            replay.replay_deals_write(self.mock, outcome=deal_write)

    def writes(self) -> list[tuple[str, str, dict]]:
        """(method, path, JSON body) of every call that writes to the CRM."""
        found = []
        if self.name == "salesforce":
            for call in self.mock.calls:
                if call.request.method in ("POST", "PATCH"):
                    body = json.loads(call.request.body) if call.request.body else {}
                    found.append((call.request.method, call.request.url, body))
        else:
            for request, _response in self.mock.log:
                if request.method == "PATCH" or (
                    request.method == "POST"
                    and not request.path.endswith(("/search", "/batch/read"))
                    and not request.path.startswith("/oauth/")
                ):
                    found.append((request.method, request.path, request.get_json(silent=True)))
        return found


@pytest.fixture
def salesforce_api():
    """Salesforce's recorded answers, replayed by ``responses`` (simple-salesforce is built
    on requests)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(params=["salesforce", "hubspot"])
def scene(request, settings, manager):
    if request.param == "salesforce":
        settings.SALESFORCE_API_VERSION = "62.0"
        settings.SALESFORCE_CLIENT_ID, settings.SALESFORCE_CLIENT_SECRET = "id", "secret"
        mock = request.getfixturevalue("salesforce_api")
        tokens = sf.TOKENS
        values = {
            "owner_email": sf.OWNER_EMAIL,
            "owner_id": sf.OWNER_ID,
            "company_ids": sf.COMPANY_IDS,
            "contact_emails": sf.CONTACT_EMAILS,
            "open_deal_id": sf.OPEN_DEAL_ID,
            "won_amount": sf.RUN3_AMOUNT,
            "company_write_ids": sf.COMPANY_IDS,
            "gone_company_id": sf.COMPANY_IDS[1],
            "deal_write_ids": (sf.WON_DEAL_ID, sf.OPEN_DEAL_ID),
        }
    else:
        mock = request.getfixturevalue("httpserver")
        hs.point_at(mock, settings)
        tokens = base.Tokens(access_token="CIrToaiiMhIHAAEAQAAAARiO1oo", refresh_token="1e8fbfb1")
        values = {
            "owner_email": hs.OWNER_EMAIL,
            "owner_id": hs.OWNER_ID,
            "company_ids": hs.COMPANY_IDS,
            "contact_emails": hs.CONTACT_EMAILS,
            "open_deal_id": hs.OPEN_DEAL_ID,
            "won_amount": hs.WON_AMOUNT,
            "company_write_ids": (*hs.BATCH_WRITTEN["companies"], hs.BATCH_GONE["companies"]),
            "gone_company_id": hs.BATCH_GONE["companies"],
            "deal_write_ids": hs.BATCH_WRITTEN["deals"],
        }
    connection = CrmConnection.objects.create(
        provider=request.param,
        access_token_encrypted=BOX.encrypt(tokens.access_token),
        refresh_token_encrypted=BOX.encrypt(tokens.refresh_token),
        instance_url=tokens.instance_url,
        connected_by=manager,
        connected_at=LONG_AGO,
    )
    return Scene(name=request.param, connection=connection, mock=mock, **values)


@pytest.fixture
def owner_rep(scene):
    """The Vouch rep whose email is the recorded CRM owner's."""
    return factories.RepFactory(email=scene.owner_email.upper())


def snapshot() -> dict[str, list]:
    """Everything a sync may write, to compare before and after."""
    return {
        "companies": list(Company.objects.order_by("pk").values()),
        "people": list(Person.objects.order_by("pk").values()),
        "owners": list(CrmOwner.objects.order_by("pk").values()),
        "crm_companies": list(CrmCompany.objects.order_by("pk").values()),
        "contacts": list(CrmContact.objects.order_by("pk").values()),
        "deals": list(CrmDeal.objects.order_by("pk").values()),
        "cursors": list(SyncCursor.objects.order_by("pk").values("object_name", "value")),
        "referrals": list(Referral.objects.order_by("pk").values()),
    }


def test_a_sync_maps_the_crm_and_a_second_run_changes_nothing(scene, owner_rep):
    scene.load(run=1)
    run = sync_run(connection_id=scene.connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, (run.message, list(run.errors.values()))
    owner = CrmOwner.objects.get(external_id=scene.owner_id)
    assert owner.user == owner_rep  # matched by email, whatever its case
    assert set(CrmCompany.objects.values_list("external_id", flat=True)) == set(scene.company_ids)
    assert run.counts["companies"]["created"] + run.counts["companies"].get("matched", 0) == len(
        scene.company_ids
    )
    people = {email.lower() for email in Person.objects.values_list("email", flat=True)}
    assert {email.lower() for email in scene.contact_emails} <= people
    assert CrmDeal.objects.filter(external_id=scene.open_deal_id).exists()
    assert all(cursor.value for cursor in SyncCursor.objects.exclude(object_name="owners"))
    assert scene.writes() == []  # nothing to write back yet: no advocates, no referrals
    before = snapshot()

    scene.load(run=2)
    second = sync_run(connection_id=scene.connection.pk)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert snapshot() == before
    for counts in second.counts.values():
        assert counts.get("created", 0) == counts.get("updated", 0) == 0
    assert scene.writes() == []


def test_a_referral_goes_out_with_its_owner_rep_and_its_won_deal_pays_once(scene, owner_rep):
    RewardRule.objects.create(name="Won deal", kind=RewardRule.Kind.FIXED, fixed_points=500)
    advocate = factories.AdvocateFactory(owner_rep=owner_rep, user__first_name="Ada")
    referral = referral_create(
        advocate_id=advocate.pk,
        method=Method.EMAIL,
        referred_name="Grace Hopper",
        referred_email="grace@navy.example",
        referred_company="Navy Labs",
        created_at=datetime(2002, 1, 1, tzinfo=UTC),
        notify=False,
    )
    assert referral.owner_rep == owner_rep

    scene.load(run=1, push=True)
    run = sync_run(connection_id=scene.connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, (run.message, list(run.errors.values()))
    assert run.counts["out"]["referrals"] == 1
    deal_bodies = [
        body
        for _m, path, body in scene.writes()
        if "deal" in path.lower() or "Opportunity/" in path
    ]
    assert deal_bodies, scene.writes()
    sent = json.dumps(deal_bodies)
    assert scene.owner_id in sent  # owned by the rep's CRM user
    assert advocate.user.email in sent  # attributed to the advocate
    deal = CrmDeal.objects.get(external_id=scene.open_deal_id)
    assert deal.referral == referral
    cursor_before_win = SyncCursor.objects.get(object_name="deals").value

    scene.load(run=3)
    won = sync_run(connection_id=scene.connection.pk)
    assert won.status == SyncRun.Status.SUCCEEDED, (won.message, list(won.errors.values()))
    referral.refresh_from_db()
    advocate.refresh_from_db()
    assert referral.stage == Stage.WON
    assert referral.deal_amount == scene.won_amount
    assert ReferralReward.objects.filter(referral=referral).count() == 1
    balance = advocate.balance
    assert balance == 500

    # The CRM sends the same change again (the cursor set back): nothing more is paid.
    SyncCursor.objects.filter(object_name="deals").update(value=cursor_before_win)
    scene.load(run=3)
    again = sync_run(connection_id=scene.connection.pk)
    assert again.status == SyncRun.Status.SUCCEEDED
    advocate.refresh_from_db()
    assert advocate.balance == balance
    assert ReferralReward.objects.filter(referral=referral).count() == 1
    # And the referral is not pushed a second time.
    assert not [w for w in scene.writes() if w[0] == "POST"]


def _advocates_at(company_ids) -> None:
    for link in CrmCompany.objects.filter(external_id__in=company_ids):
        factories.AdvocateFactory(company=link.company)


def test_a_missing_custom_field_is_said_once_by_name_and_written_once_created(scene, owner_rep):
    scene.load(run=1)
    sync_run(connection_id=scene.connection.pk)
    _advocates_at(scene.company_write_ids)
    scene.load(run=2, company_write="missing")
    run = sync_run(connection_id=scene.connection.pk)
    assert run.status == SyncRun.Status.PARTIAL
    error = RecordError.objects.get(run=run)  # once, not once per account
    assert error.direction == "out"
    assert "vouch_" in error.message.lower()
    # Not marked written: once the admin creates the field, the next run writes them.
    assert not CrmCompany.objects.exclude(written_digest="").exists()

    scene.load(run=2, company_write="partial")
    fixed = sync_run(connection_id=scene.connection.pk)
    assert fixed.status == SyncRun.Status.PARTIAL  # one account was deleted in the CRM
    written = len(scene.company_write_ids) - 1
    assert fixed.counts["out"]["companies"] == written
    gone = RecordError.objects.get(run=fixed)
    assert gone.external_id == scene.gone_company_id
    assert "deleted" in gone.message.lower()
    # The deleted account's link is dropped; the Vouch company stays.
    assert not CrmCompany.objects.filter(external_id=scene.gone_company_id).exists()
    assert CrmCompany.objects.exclude(written_digest="").count() == written

    scene.load(run=2)
    quiet = sync_run(connection_id=scene.connection.pk)
    assert quiet.counts["out"].get("companies", 0) == 0
    assert scene.writes() == []


def test_reference_calls_from_deals_are_written_on_them_once(scene, owner_rep):
    scene.load(run=1)
    sync_run(connection_id=scene.connection.pk)
    for n, deal in enumerate(CrmDeal.objects.filter(external_id__in=scene.deal_write_ids)):
        ask = AskFactory(
            status=Ask.Status.COMPLETED,
            advocate__user__first_name="Ada",
            advocate__user__last_name=f"Byron{n}",
            request__rep=owner_rep,
        )
        DealReferenceRequest.objects.create(deal=deal, request=ask.request)

    scene.load(run=2, deal_write="ok")
    run = sync_run(connection_id=scene.connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, list(run.errors.values())
    assert run.counts["out"]["deals"] == len(scene.deal_write_ids)
    (write,) = scene.writes()
    sent = json.dumps(write[2])
    assert "Ada Byron0" in sent
    assert "Ada Byron1" in sent

    scene.load(run=2, deal_write="ok")
    assert sync_run(connection_id=scene.connection.pk).counts["out"].get("deals", 0) == 0
    assert scene.writes() == []


# --- Tokens and limits (HubSpot's recordings: its 401, token, refusal and 429 answers) ---


@pytest.fixture
def hubspot(httpserver, settings, manager):
    hs.point_at(httpserver, settings)
    connection = CrmConnection.objects.create(
        provider="hubspot",
        access_token_encrypted=BOX.encrypt("stale-access-token"),
        refresh_token_encrypted=BOX.encrypt("1e8fbfb1"),
        connected_by=manager,
        connected_at=LONG_AGO,
    )
    return httpserver, connection


def _first_owners_answer(server, name: str) -> None:
    server.expect_oneshot_request("/crm/v3/owners/", method="GET").respond_with_handler(
        lambda _request: hs.respond(name)
    )


def test_a_refused_access_token_is_refreshed_once_and_kept_encrypted(hubspot):
    server, connection = hubspot
    _first_owners_answer(server, "expired_401")
    hs.replay_oauth(server)
    hs.replay_sync(server, run=1)
    run = sync_run(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    connection.refresh_from_db()
    fresh = hs.recording("oauth_token")["response"]["body"]
    assert tokens_of(connection).access_token == fresh["access_token"]
    assert fresh["access_token"] not in connection.access_token_encrypted
    assert connection.token_expires_at is not None
    assert [r.path for r, _ in server.log].count("/oauth/v1/token") == 1


def test_a_refused_refresh_breaks_the_connection_until_a_manager_reconnects(
    hubspot, manager_client
):
    server, connection = hubspot
    _first_owners_answer(server, "expired_401")
    hs.replay_oauth(server, refused=True)
    run = sync_run(connection_id=connection.pk)
    assert run.status == SyncRun.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == CrmConnection.Status.BROKEN
    page = manager_client.get("/console/crm/").content.decode()
    assert "Needs reconnecting" in page
    # The beat skips it: nothing is called while it is broken.
    server.clear()
    from integrations.tasks import crm_sync_all

    assert crm_sync_all() == 0


def test_a_rate_limit_pauses_the_run_and_the_next_run_carries_on(hubspot):
    server, connection = hubspot
    # Owners are read; the first companies search meets HubSpot's 429 (Retry-After: 10).
    hs.replay_sync(server, run=1)
    server.expect_oneshot_request(
        "/crm/v3/objects/companies/search", method="POST"
    ).respond_with_handler(lambda _request: hs.respond("rate_limited_429"))
    with pytest.raises(base.RetryLater) as paused:
        sync_run(connection_id=connection.pk)
    assert paused.value.seconds == 10
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.RETRYING
    assert CrmOwner.objects.exists()  # what was read before the limit stays
    assert not CrmCompany.objects.exists()

    resumed = sync_run(connection_id=connection.pk)
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert CrmCompany.objects.count() == len(hs.COMPANY_IDS)


def test_one_run_at_a_time(hubspot):
    _server, connection = hubspot
    SyncRun.objects.create(connection=connection, trigger=SyncRun.Trigger.SCHEDULE)
    from integrations.crm.sync import SyncBusy

    with pytest.raises(SyncBusy):
        sync_run(connection_id=connection.pk)


def test_connecting_hubspot_keeps_its_tokens_and_runs_the_first_sync(
    httpserver, settings, manager_client, django_capture_on_commit_callbacks
):
    hs.point_at(httpserver, settings)
    hs.replay_oauth(httpserver)
    hs.replay_sync(httpserver, run=1)
    start = manager_client.get(reverse("integrations:crm_connect", args=["hubspot"]))
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    callback = reverse("integrations:crm_callback", args=["hubspot"])
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.get(callback, {"code": "recorded-code", "state": state})
    assert response.status_code == 302
    connection = CrmConnection.objects.get()
    assert connection.account_id == hs.HUB_ID
    assert connection.connected_by.email == "manager@example.com"
    fresh = hs.recording("oauth_token")["response"]["body"]
    assert tokens_of(connection).refresh_token == fresh["refresh_token"]
    run = SyncRun.objects.get()
    assert (run.trigger, run.status) == (SyncRun.Trigger.MANUAL, SyncRun.Status.SUCCEEDED)
    assert CrmCompany.objects.count() == len(hs.COMPANY_IDS)

    # The state worked once: the same callback again connects nothing more.
    again = manager_client.get(callback, {"code": "recorded-code", "state": state}, follow=True)
    assert "nothing was connected" in again.content.decode()
    assert SyncRun.objects.count() == 1
