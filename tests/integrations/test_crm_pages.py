"""The CRM pages as managers and reps use them: the console page, OAuth's state check,
the stage map, the contacts to invite, and "Request a reference" from a CRM deal.
None of these calls a CRM (the sync's own tests replay recordings: test_crm_sync.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from advocates.models import Invitation
from integrations.crm import base, inbound
from integrations.crm.models import (
    CrmCompany,
    CrmConnection,
    CrmContact,
    CrmDeal,
    CrmOwner,
    DealReferenceRequest,
)
from integrations.crm.providers import provider_for
from integrations.crm.tokens import BOX, tokens_of
from references.models import ReferenceRequest
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(manager) -> CrmConnection:
    return CrmConnection.objects.create(
        provider="hubspot",
        account_id="62515",
        account_name="Demo portal",
        access_token_encrypted=BOX.encrypt("access-1"),
        refresh_token_encrypted=BOX.encrypt("refresh-1"),
        connected_by=manager,
    )


@pytest.fixture
def crm_world(connection, rep, other_rep):
    """Acme in the CRM with a deal and two contacts: one owned by ``rep``, one by
    ``other_rep``."""
    company = factories.CompanyFactory(
        name="Acme Robotics", domain="acme.example", size_band="51-500"
    )
    link = CrmCompany.objects.create(
        connection=connection, external_id="C1", company=company, digest="x"
    )
    owner = CrmOwner.objects.create(
        connection=connection, external_id="O1", email=rep.email, user=rep
    )
    other = CrmOwner.objects.create(
        connection=connection, external_id="O2", email=other_rep.email, user=other_rep
    )
    mine = CrmContact.objects.create(
        connection=connection,
        external_id="P1",
        email="dana@acme.example",
        first_name="Dana",
        last_name="Lee",
        title="VP Operations",
        company=link,
        owner=owner,
    )
    theirs = CrmContact.objects.create(
        connection=connection,
        external_id="P2",
        email="eli@acme.example",
        first_name="Eli",
        last_name="Park",
        company=link,
        owner=other,
    )
    deal = CrmDeal.objects.create(
        connection=connection,
        external_id="D1",
        name="Acme expansion",
        amount=Decimal("48000.00"),
        stage="contractsent",
        stage_label="Contract Sent",
        company=link,
        owner=owner,
    )
    return {"company": company, "mine": mine, "theirs": theirs, "deal": deal}


def test_tokens_are_encrypted_at_rest_and_read_back(connection):
    assert "access-1" not in connection.access_token_encrypted
    tokens = tokens_of(connection)
    assert (tokens.access_token, tokens.refresh_token) == ("access-1", "refresh-1")


def test_console_page_says_what_to_set_when_no_crm_app_is_configured(manager_client):
    page = manager_client.get(reverse("integrations:crm")).content.decode()
    assert "SALESFORCE_CLIENT_ID" in page
    assert "HUBSPOT_CLIENT_ID" in page
    assert "Connect Salesforce" not in page


def test_console_page_offers_connect_when_configured(manager_client, settings):
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = "client-id", "secret"
    page = manager_client.get(reverse("integrations:crm")).content.decode()
    assert "Connect HubSpot" in page
    response = manager_client.get(reverse("integrations:crm_connect", args=["hubspot"]))
    assert response.status_code == 302
    assert response["Location"].startswith("https://app.hubspot.com/oauth/authorize")
    assert "state=" in response["Location"]


def test_callback_without_the_state_we_issued_connects_nothing(manager_client, settings):
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = "client-id", "secret"
    response = manager_client.get(
        reverse("integrations:crm_callback", args=["hubspot"]),
        {"code": "forged-code", "state": "not-issued-here"},
        follow=True,
    )
    assert "nothing was connected" in response.content.decode()
    assert not CrmConnection.objects.exists()


def test_a_broken_connection_cannot_sync_and_says_to_reconnect(manager_client, connection):
    connection.status = CrmConnection.Status.BROKEN
    connection.broken_reason = "BAD_REFRESH_TOKEN"
    connection.broken_at = timezone.now()
    connection.save()
    page = manager_client.get(reverse("integrations:crm")).content.decode()
    assert "Needs reconnecting" in page
    assert "BAD_REFRESH_TOKEN" in page
    response = manager_client.post(
        reverse("integrations:crm_sync_now", args=[connection.pk]), follow=True
    )
    assert "Connect again first" in response.content.decode()
    assert not connection.runs.exists()


def test_stage_map_lines_are_checked_and_then_move_deals_by_them(manager_client, connection):
    url = reverse("integrations:crm_stage_map", args=[connection.pk])
    response = manager_client.post(url, {"lines": "Contract Sent = signed"}, follow=True)
    assert "is not submitted, qualified or opportunity" in response.content.decode()
    connection.refresh_from_db()
    assert connection.stage_map == {}

    manager_client.post(url, {"lines": "contractsent = qualified\n\nDemo = submitted"})
    connection.refresh_from_db()
    assert connection.stage_map == {"contractsent": "qualified", "Demo": "submitted"}
    hubspot = provider_for("hubspot")
    open_deal = base.Deal(external_id="1", name="x", stage="contractsent")
    assert inbound.deal_stage(connection, hubspot, open_deal) == "qualified"
    won = base.Deal(external_id="1", name="x", stage="contractsent", is_closed=True, is_won=True)
    assert inbound.deal_stage(connection, hubspot, won) == "won"
    unknown = base.Deal(external_id="1", name="x", stage="custom-stage-17")
    assert inbound.deal_stage(connection, hubspot, unknown) == "opportunity"


def test_a_rep_sees_and_invites_only_the_contacts_they_own(client, rep, crm_world):
    client.force_login(rep)
    page = client.get(reverse("integrations:crm_candidates")).content.decode()
    assert "Dana Lee" in page
    assert "Eli Park" not in page
    theirs = reverse("integrations:crm_candidate_invite", args=[crm_world["theirs"].pk])
    assert client.post(theirs).status_code == 404
    client.post(reverse("integrations:crm_candidate_invite", args=[crm_world["mine"].pk]))
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.first_name, invitation.company_name) == (
        "dana@acme.example",
        "Dana",
        "Acme Robotics",
    )
    assert invitation.invited_by == rep


def test_a_contact_whose_crm_address_is_not_valid_gets_a_message_not_an_invitation(
    manager_client, crm_world
):
    contact = crm_world["theirs"]
    contact.email = "eli at acme"
    contact.save()
    url = reverse("integrations:crm_candidate_invite", args=[contact.pk])
    response = manager_client.post(f"{url}?page=javascript:x", follow=True)
    assert "is not valid" in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("?page=1")
    assert not Invitation.objects.exists()


def test_contacts_who_are_advocates_are_not_candidates(manager_client, crm_world):
    factories.AdvocateFactory(user__email="Dana@Acme.example")
    page = manager_client.get(reverse("integrations:crm_candidates")).content.decode()
    assert "Eli Park" in page
    assert "Dana Lee" not in page


def test_candidates_page_queries_do_not_grow_with_contacts(
    manager_client, crm_world, connection, django_assert_max_num_queries
):
    url = reverse("integrations:crm_candidates")
    manager_client.get(url)
    for n in range(30):
        CrmContact.objects.create(
            connection=connection,
            external_id=f"X{n}",
            email=f"person{n}@acme.example",
            company=crm_world["mine"].company,
            owner=crm_world["mine"].owner,
        )
    with django_assert_max_num_queries(12):
        page = manager_client.get(url).content.decode()
    assert "person29@acme.example" in page


def test_request_a_reference_from_a_synced_deal_is_prefilled_and_linked(client, rep, crm_world):
    client.force_login(rep)
    url = reverse("integrations:crm_reference", args=["hubspot", "D1"])
    form = client.get(url).context["form"]
    assert form.initial["opportunity_name"] == "Acme expansion"
    assert form.initial["opportunity_amount"] == Decimal("48000.00")
    assert form.initial["opportunity_stage"] == ReferenceRequest.Stage.NEGOTIATION
    assert form.initial["prospect_company"] == "Acme Robotics"
    assert form.initial["prospect_email"] == "dana@acme.example"
    data = {
        **{k: v for k, v in form.initial.items() if v is not None},
        "call_type": ReferenceRequest.CallType.choices[0][0],
        "needed_by": (timezone.localdate() + timedelta(days=10)).isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    created = ReferenceRequest.objects.get()
    assert created.rep == rep
    assert created.opportunity_name == "Acme expansion"
    assert DealReferenceRequest.objects.get().deal == crm_world["deal"]


def test_a_deal_not_synced_yet_fills_what_the_link_carries(client, rep, crm_world):
    client.force_login(rep)
    url = reverse("integrations:crm_reference", args=["salesforce", "006NOTYET"])
    response = client.get(url, {"name": "Globex renewal", "amount": "not-a-number"})
    assert "has not reached Vouch yet" in response.content.decode()
    assert response.context["form"].initial == {"opportunity_name": "Globex renewal"}
    response = client.post(url, {"prospect_name": ""})
    assert response.status_code == 200
    assert not ReferenceRequest.objects.exists()
