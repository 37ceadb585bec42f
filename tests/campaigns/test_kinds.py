"""Campaign kinds: invitation contacts and links, challenge and referral links, the
reference drive's pairings (both sides in the audience), the hub's referral drives."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate, Invitation, User
from advocates.services import advocate_profile_update, invitation_from_token
from campaigns import kinds
from campaigns.models import (
    Campaign,
    CampaignContact,
    CampaignMessage,
    CampaignProspect,
    CampaignReferral,
)
from campaigns.services import kinds as kinds_services
from campaigns.services.campaigns import campaign_start
from referrals.models import Method, Referral
from tests import factories
from tests.challenges.factories import ChallengeFactory

pytestmark = pytest.mark.django_db


def _csv(text: str, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _campaign(kind: str, manager=None, **extra) -> Campaign:
    return Campaign.objects.create(
        name=extra.pop("name", f"{kind} campaign"),
        kind=kind,
        subject="Hello {{ first_name }}",
        body=extra.pop("body", "Hi {{ first_name }}"),
        created_by=manager,
        **extra,
    )


def _message(campaign: Campaign, recipient: kinds.Recipient) -> CampaignMessage:
    """The row sending creates for one recipient of ``audience()``."""
    return CampaignMessage.objects.create(
        campaign=campaign,
        email=recipient.email,
        first_name=recipient.first_name,
        last_name=recipient.last_name,
        advocate_id=recipient.advocate_id,
        context=recipient.context,
    )


# --- Program invitations -----------------------------------------------------------------

CONTACTS = """email,first_name,last_name,company,title
new.person@acme.example,New,Person,Acme,CTO
not-an-email,Bad,Row,Acme,
ada@example.com,Ada,Member,Vouch,
new.person@acme.example,Dup,Licate,Acme,
second@beta.example,Second,,Beta,
,,,,
"""


def test_contacts_import_lists_bad_rows_skips_members_and_adds_the_rest(
    manager_client, manager, advocate
):
    campaign = _campaign(Campaign.Kind.INVITATION, manager, body="Join: {{ invitation_link }}")
    url = reverse("campaigns:kinds_contacts", kwargs={"pk": campaign.pk})

    response = manager_client.post(url, {"file": _csv(CONTACTS)})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 3: “not-an-email” is not a valid email address." in page
    assert "Line 5: new.person@acme.example appears more than once in the file." in page
    assert "Line 7: email is empty." in page
    assert "1 skipped: already has an account" in page  # ada@example.com is an advocate
    assert sorted(campaign.contacts.values_list("email", flat=True)) == [
        "new.person@acme.example",
        "second@beta.example",
    ]
    contact = campaign.contacts.get(email="new.person@acme.example")
    assert (contact.first_name, contact.company_name, contact.title) == ("New", "Acme", "CTO")

    # The same file again adds nothing.
    again = kinds_services.campaign_contacts_import(campaign=campaign, file=_csv(CONTACTS))
    assert (again.created, again.unchanged) == (0, 2)
    assert campaign.contacts.count() == 2


def test_contacts_import_refuses_a_binary_file_and_a_started_campaign(manager):
    campaign = _campaign(Campaign.Kind.INVITATION, manager)
    result = kinds_services.campaign_contacts_import(
        campaign=campaign, file=SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x01")
    )
    assert result.errors == [(0, "The file is not UTF-8 text. Export it as “CSV UTF-8”.")]
    assert not campaign.contacts.exists()

    campaign.status = Campaign.Status.SENDING
    campaign.save()
    with pytest.raises(kinds_services.KindError, match="has started"):
        kinds_services.campaign_contacts_import(campaign=campaign, file=_csv(CONTACTS))
    assert not campaign.contacts.exists()


def test_invitation_body_must_carry_the_link():
    problems = kinds.kind_problems(kind=Campaign.Kind.INVITATION, body="Hi {{ first_name }}")
    assert problems == ["The body must contain {{ invitation_link }}: it is the link they need."]
    assert not kinds.kind_problems(
        kind=Campaign.Kind.INVITATION, body="Join us: {{ invitation_link }}"
    )


def test_invitation_link_works_end_to_end(
    manager, client, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = _campaign(Campaign.Kind.INVITATION, manager, body="Join: {{ invitation_link }}")
    kinds_services.campaign_contacts_import(
        campaign=campaign,
        file=_csv("email,first_name,last_name,company,title\nnew@acme.example,Nia,New,Acme,CTO\n"),
    )
    [recipient] = list(kinds.audience(campaign))
    assert (recipient.email, recipient.first_name, recipient.advocate_id) == (
        "new@acme.example",
        "Nia",
        None,
    )
    message = _message(campaign, recipient)

    with django_capture_on_commit_callbacks(execute=True):
        link = kinds.message_context(message)["invitation_link"]
        # Rendering again (a retried send) links the same invitation (the token's
        # timestamp may differ, both work) and creates no second one.
        again = kinds.message_context(message)["invitation_link"]
    token, token_again = (urlsplit(url).path.rstrip("/").rsplit("/", 1)[1] for url in (link, again))
    assert invitation_from_token(token) == invitation_from_token(token_again)
    assert Invitation.objects.filter(email="new@acme.example").count() == 1
    assert mailoutbox == []  # the campaign's email carries the link, not a second email
    invitation = Invitation.objects.get()
    assert CampaignContact.objects.get().invitation == invitation
    assert invitation.invited_by == manager

    path = urlsplit(link).path
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"password1": "a-long-unusual-passphrase", "password2": "a-long-unusual-passphrase"}
    )
    assert response.status_code == 302
    advocate = Advocate.objects.get(user__email="new@acme.example")
    assert advocate.status == Advocate.Status.ACTIVE
    assert (advocate.title, advocate.company.name) == ("CTO", "Acme")
    # A member now: a campaign started later leaves them out.
    assert list(kinds.audience(campaign)) == []


def test_invitation_link_for_someone_who_joined_meanwhile_is_the_sign_in_page(manager, advocate):
    campaign = _campaign(Campaign.Kind.INVITATION, manager, body="{{ invitation_link }}")
    message = CampaignMessage.objects.create(campaign=campaign, email=advocate.user.email)
    assert kinds.message_context(message)["invitation_link"].endswith(reverse("account_login"))
    assert not Invitation.objects.exists()


# --- Challenge announcements and referral drives ---------------------------------------------


def test_challenge_link_is_absolute_and_a_closed_challenge_is_refused(settings, advocate):
    challenge = ChallengeFactory()
    campaign = _campaign(Campaign.Kind.CHALLENGE, challenge=challenge)
    message = CampaignMessage.objects.create(
        campaign=campaign, advocate=advocate, email=advocate.user.email
    )
    context = kinds.message_context(message)
    assert context["challenge_link"] == settings.SITE_URL + f"/challenges/{challenge.pk}/"
    assert context["challenge_title"] == challenge.title
    assert kinds.kind_problems(kind=campaign.kind, body="", challenge=challenge) == []

    ended = ChallengeFactory(
        starts_at=timezone.now() - timedelta(days=9), ends_at=timezone.now() - timedelta(days=1)
    )
    assert "has ended" in kinds.kind_problems(kind=campaign.kind, body="", challenge=ended)[0]
    draft = ChallengeFactory(status="draft")
    assert "not published" in kinds.kind_problems(kind=campaign.kind, body="", challenge=draft)[0]
    assert kinds.kind_problems(kind=campaign.kind, body="", challenge=None)


def _received_drive(advocate, **extra) -> Campaign:
    campaign = _campaign(
        Campaign.Kind.REFERRAL_DRIVE,
        status=Campaign.Status.SENDING,
        suggested_message="Hi, we use Vouch. Talk to them: {{ referral_link }}",
        **extra,
    )
    CampaignMessage.objects.create(
        campaign=campaign,
        advocate=advocate,
        email=advocate.user.email,
        status=CampaignMessage.Status.SENT,
        sent_at=timezone.now(),
    )
    return campaign


def test_referral_drive_link_is_the_advocates_own(advocate):
    campaign = _received_drive(advocate)
    message = campaign.messages.get()
    link = kinds.message_context(message)["referral_link"]
    assert link == kinds.referral_link(advocate.pk)
    assert f"/r/{advocate.referral_link.code}/" in link
    assert kinds.audience(campaign) is None  # the segment's advocates


def test_hub_panel_sends_the_drive_message_as_an_email_referral(
    advocate, advocate_client, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = _received_drive(advocate)
    _campaign(Campaign.Kind.REFERRAL_DRIVE, status=Campaign.Status.SENDING, name="Not mine")

    hub = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "Your referral drives" in hub
    assert campaign.name in hub
    assert "Not mine" not in hub
    assert kinds.referral_link(advocate.pk) in hub  # the message carries the link

    with django_capture_on_commit_callbacks(execute=True):
        response = advocate_client.post(
            reverse("campaigns:kinds_refer", kwargs={"pk": campaign.pk}),
            {
                "referred_name": "Cole League",
                "referred_email": "cole@elsewhere.example",
                "referred_company": "Elsewhere",
                "body": "Edited: talk to them",
            },
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert "Your email to Cole League is on its way" in response.content.decode()
    assert "<html" not in response.content.decode()
    referral = Referral.objects.get()
    assert (referral.advocate, referral.method) == (advocate, Method.EMAIL)
    assert CampaignReferral.objects.get().campaign == campaign
    [sent] = [m for m in mailoutbox if "cole@elsewhere.example" in m.to]
    assert "Edited: talk to them" in sent.body


def test_hub_drive_of_another_advocate_is_not_found(advocate, other_advocate_client):
    campaign = _received_drive(advocate)
    response = other_advocate_client.post(
        reverse("campaigns:kinds_refer", kwargs={"pk": campaign.pk}),
        {"referred_name": "X", "referred_email": "x@y.example", "body": "hi"},
    )
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_cancelled_drive_leaves_the_hub_and_refuses_sends(advocate, advocate_client):
    campaign = _received_drive(advocate)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    assert (
        "Your referral drives" not in advocate_client.get(reverse("advocates:hub")).content.decode()
    )
    with pytest.raises(kinds_services.KindError):
        kinds_services.campaign_referral_send(
            campaign_id=campaign.pk,
            advocate=advocate,
            referred_name="X",
            referred_email="x@y.example",
            body="hi",
        )
    assert not Referral.objects.exists()


# --- Reference drives -------------------------------------------------------------------

PROSPECTS = """name,email,company,industry,title,product
Hana Health,hana@clinic.example,Clinic Co,Healthcare,VP Operations,Scheduler
Fin Banker,fin@bank.example,Bank Co,Finance,Director of IT,
Bad Row,not-an-email,Nowhere,,,
"""


@pytest.fixture
def pool():
    """Three advocates who take calls (one per industry) and one who does not."""
    scheduler = factories.ProductFactory(name="Scheduler")
    health = factories.AdvocateFactory(
        industry="Healthcare",
        reference_opt_in=True,
        user__first_name="Hal",
        user__last_name="Care",
        title="VP Operations",
        seniority="vp",
    )
    advocate_profile_update(advocate=health, data={"products": [scheduler]})
    finance = factories.AdvocateFactory(
        industry="Finance", reference_opt_in=True, user__first_name="Fay"
    )
    other = factories.AdvocateFactory(industry="Retail", reference_opt_in=True)
    opted_out = factories.AdvocateFactory(industry="Healthcare", reference_opt_in=False)
    return {"health": health, "finance": finance, "other": other, "opted_out": opted_out}


def test_reference_drive_pairs_each_prospect_with_reasons_and_emails_both_sides(
    manager_client, manager, pool
):
    campaign = _campaign(Campaign.Kind.REFERENCE_DRIVE, manager)
    url = reverse("campaigns:kinds_prospects", kwargs={"pk": campaign.pk})
    page = manager_client.post(url, {"action": "import", "file": _csv(PROSPECTS)})
    assert "Line 4: “not-an-email” is not a valid email address." in page.content.decode()
    assert campaign.prospects.count() == 2

    page = manager_client.post(url, {"action": "pair", "max_per_advocate": "1"})
    assert "2 prospects paired" in page.content.decode()
    hana = CampaignProspect.objects.get(email="hana@clinic.example")
    fin = CampaignProspect.objects.get(email="fin@bank.example")
    assert hana.advocate == pool["health"]
    assert fin.advocate == pool["finance"]
    texts = [reason["text"] for reason in hana.reasons]
    assert "Healthcare like Clinic Co" in texts
    assert "Uses Scheduler" in texts
    assert "Healthcare like Clinic Co" in page.content.decode()  # shown for review

    recipients = {r.email: r for r in kinds.audience(campaign)}
    assert set(recipients) == {
        "hana@clinic.example",
        "fin@bank.example",
        pool["health"].user.email,
        pool["finance"].user.email,
    }
    to_advocate = recipients[pool["health"].user.email]
    assert to_advocate.advocate_id == pool["health"].pk
    assert to_advocate.context["prospect_name"] == "Hana Health"
    assert to_advocate.context["prospect_company"] == "Clinic Co"
    assert "Also in Healthcare" in to_advocate.context["match_reasons"]
    to_prospect = recipients["hana@clinic.example"]
    assert to_prospect.advocate_id is None
    assert to_prospect.first_name == "Hana"
    assert to_prospect.context["advocate_name"] == "Hal Care"
    assert to_prospect.context["advocate_title"] == "VP Operations"
    assert to_prospect.context["advocate_company"] == pool["health"].company.name

    message = _message(campaign, to_prospect)
    values = kinds.message_context(message)
    assert values["advocate_name"] == "Hal Care"
    assert set(values) == kinds.PLACEHOLDERS[Campaign.Kind.REFERENCE_DRIVE]


def test_one_advocate_takes_at_most_n_prospects_and_gets_one_email(manager, pool):
    for advocate in (pool["finance"], pool["other"]):
        advocate.reference_opt_in = False
        advocate.save()
    campaign = _campaign(Campaign.Kind.REFERENCE_DRIVE, manager)
    rows = "name,email,company,industry\n" + "".join(
        f"P{i} Person,p{i}@clinic{i}.example,Clinic {i},Healthcare\n" for i in range(3)
    )
    kinds_services.campaign_prospects_import(campaign=campaign, file=_csv(rows))
    pool["health"].reference_max_calls_per_90d = 5
    pool["health"].save()

    result = kinds_services.campaign_prospects_pair(campaign=campaign, max_per_advocate=2)

    assert (result.paired, result.unpaired) == (2, 1)
    assert campaign.prospects.filter(advocate=pool["health"]).count() == 2
    assert not campaign.prospects.filter(advocate=pool["opted_out"]).exists()
    to_advocate = [r for r in kinds.audience(campaign) if r.advocate_id]
    assert len(to_advocate) == 1  # one email per (campaign, address)
    assert to_advocate[0].context["prospect_name"] == "P0 Person and P1 Person"


def test_prospects_page_query_count_does_not_grow_with_prospects(manager_client, manager, pool):
    campaign = _campaign(Campaign.Kind.REFERENCE_DRIVE, manager)
    url = reverse("campaigns:kinds_prospects", kwargs={"pk": campaign.pk})

    def fill(n: int) -> None:
        rows = "name,email,company,industry\n" + "".join(
            f"P{i} X,p{i}-{n}@x{i}.example,X {i},Finance\n" for i in range(n)
        )
        kinds_services.campaign_prospects_import(campaign=campaign, file=_csv(rows))
        kinds_services.campaign_prospects_pair(campaign=campaign, max_per_advocate=10)

    fill(2)
    manager_client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert manager_client.get(url).status_code == 200
    fill(12)
    with CaptureQueriesContext(connection) as large:
        assert manager_client.get(url).status_code == 200
    assert len(large) == len(small)


def test_kind_page_of_another_kind_is_not_found(manager_client, manager):
    campaign = _campaign(Campaign.Kind.CHALLENGE, manager)
    for name in ("campaigns:kinds_contacts", "campaigns:kinds_prospects"):
        assert manager_client.get(reverse(name, kwargs={"pk": campaign.pk})).status_code == 404


def test_a_prospect_who_has_an_account_is_skipped(manager, advocate):
    campaign = _campaign(Campaign.Kind.REFERENCE_DRIVE, manager)
    result = kinds_services.campaign_prospects_import(
        campaign=campaign,
        file=_csv(f"name,email,company\nAda,{advocate.user.email},Vouch\nRep,x@y.example,Y\n"),
    )
    assert (result.created, result.skipped_members) == (1, 1)
    assert User.objects.filter(email=advocate.user.email).exists()


def test_demo_is_idempotent():
    import io

    from console.models import ProspectEvent
    from demo import campaign_kinds as demo_kinds

    factories.ManagerFactory(email="manager@demo.vouch")
    for industry in ("Healthcare", "Financial services", "Software"):
        factories.AdvocateFactory(industry=industry, reference_opt_in=True)
    demo_kinds.load(io.StringIO())
    drive = Campaign.objects.get(name=demo_kinds.DRIVE_NAME)
    pairs = list(drive.prospects.values_list("email", "advocate_id", "paired_at"))
    assert len([p for p in pairs if p[1]]) == 3
    promoter = Campaign.objects.get(name=demo_kinds.PROMOTER_NAME)
    assert (promoter.trigger, promoter.status) == ("nps_promoter", Campaign.Status.SENDING)

    demo_kinds.load(io.StringIO())
    assert list(drive.prospects.values_list("email", "advocate_id", "paired_at")) == pairs
    assert Campaign.objects.count() == 2
    assert ProspectEvent.objects.count() == 1


def test_drive_without_a_prewritten_message_offers_a_default_with_the_link(
    advocate, advocate_client
):
    _received_drive(advocate)
    Campaign.objects.update(suggested_message="")
    hub = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "I have been using" in hub
    assert kinds.referral_link(advocate.pk) in hub


# --- Through sending (campaigns.sending), eager Celery and the test mailbox ---------------


def test_invitation_campaign_sends_a_working_link_through_sending(
    manager, client, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = _campaign(
        Campaign.Kind.INVITATION, manager, body="Hi {{ first_name }}, join: {{ invitation_link }}"
    )
    kinds_services.campaign_contacts_import(
        campaign=campaign, file=_csv("email,first_name\nnia@acme.example,Nia\n")
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_start(campaign=campaign, actor=manager) == 1
    [email] = mailoutbox
    assert email.to == ["nia@acme.example"]
    # The link goes through the click tracker, which redirects to the invitation.
    [tracked] = [word for word in email.body.split() if "/e/c/" in word]
    redirect = client.get(urlsplit(tracked).path)
    assert redirect.status_code == 302
    join = urlsplit(redirect["Location"]).path
    assert join.startswith("/join/")
    password = "a-long-unusual-passphrase"
    response = client.post(join, {"password1": password, "password2": password})
    assert response.status_code == 302
    assert Advocate.objects.filter(user__email="nia@acme.example", status="active").exists()


def test_reference_drive_emails_both_sides_through_sending(
    manager, pool, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = _campaign(
        Campaign.Kind.REFERENCE_DRIVE,
        manager,
        body="Hi {{ first_name }}: {{ prospect_name }} ({{ prospect_company }}) meets "
        "{{ advocate_name }} ({{ advocate_company }}). Why: {{ match_reasons }}",
    )
    kinds_services.campaign_prospects_import(campaign=campaign, file=_csv(PROSPECTS))
    kinds_services.campaign_prospects_pair(campaign=campaign, max_per_advocate=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_start(campaign=campaign, actor=manager) == 4
    bodies = {email.to[0]: email.body for email in mailoutbox}
    assert set(bodies) == {
        "hana@clinic.example",
        "fin@bank.example",
        pool["health"].user.email,
        pool["finance"].user.email,
    }
    assert "Hi Hana: Hana Health (Clinic Co) meets Hal Care" in bodies["hana@clinic.example"]
    assert "Hi Hal: Hana Health (Clinic Co) meets Hal Care" in bodies[pool["health"].user.email]
    assert "Also in Healthcare" in bodies[pool["health"].user.email]


@pytest.mark.parametrize("why", ["unsubscribed", "at_cap"])
def test_pairing_leaves_out_advocates_the_email_would_skip(manager, pool, why):
    from campaigns.models import Suppression

    health = pool["health"]
    if why == "unsubscribed":
        Suppression.objects.create(email=health.user.email.lower(), reason="unsubscribed")
    else:  # the program's default cap is 2 campaign emails a week
        for n in range(2):
            other = _campaign(Campaign.Kind.CHALLENGE, manager, name=f"Earlier {n}")
            CampaignMessage.objects.create(
                campaign=other,
                advocate=health,
                email=health.user.email,
                status=CampaignMessage.Status.SENT,
                sent_at=timezone.now() - timedelta(days=1),
            )
    campaign = _campaign(Campaign.Kind.REFERENCE_DRIVE, manager)
    kinds_services.campaign_prospects_import(campaign=campaign, file=_csv(PROSPECTS))
    kinds_services.campaign_prospects_pair(campaign=campaign, max_per_advocate=1)
    hana = campaign.prospects.get(email="hana@clinic.example")
    assert hana.advocate is not None
    assert hana.advocate != health
