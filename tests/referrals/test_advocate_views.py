"""The advocate's side: tracker, lead form, email, share links, print card, hub panel."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from referrals.models import Method, Referral, ReferralMessage, Stage
from referrals.services import referral_advance, referral_link_for
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db


def test_tracker_shows_my_referrals_stage_and_reward_but_no_deal_internals(
    owned_advocate, advocate_client, other_advocate
):
    RewardRuleFactory(fixed_points=750)
    mine = ReferralFactory(
        advocate=owned_advocate,
        referred_name="Mina Won",
        created_at=timezone.now() - timedelta(days=2),
        note="secret rep note",
    )
    referral_advance(referral_id=mine.pk, stage=Stage.WON, amount=Decimal("98765.43"))
    ReferralFactory(advocate=other_advocate, referred_name="Someone Else")
    body = advocate_client.get(reverse("referrals:tracker")).content.decode()
    assert "Mina Won" in body
    assert "Won" in body
    assert "+750" in body
    assert "Someone Else" not in body
    assert "98765" not in body
    assert "98,765" not in body
    assert "secret rep note" not in body
    assert mine.referred_email not in body


def test_tracker_shows_owed_reversal(owned_advocate, advocate_client):
    from rewards.services.ledger import points_spend

    RewardRuleFactory(fixed_points=100)
    r = ReferralFactory(advocate=owned_advocate, created_at=timezone.now() - timedelta(days=1))
    t = timezone.now()
    referral_advance(referral_id=r.pk, stage=Stage.WON, occurred_at=t - timedelta(hours=1))
    points_spend(advocate_id=owned_advocate.pk, amount=100, reason="x", idempotency_key="s")
    referral_advance(referral_id=r.pk, stage=Stage.LOST, occurred_at=t)
    body = advocate_client.get(reverse("referrals:tracker")).content.decode()
    assert "reversal owed" in body


def test_tracker_query_count_constant(
    owned_advocate, advocate_client, django_assert_max_num_queries
):
    referral_link_for(advocate_id=owned_advocate.pk)
    RewardRuleFactory(fixed_points=10)
    for n in range(25):
        r = ReferralFactory(advocate=owned_advocate, created_at=timezone.now() - timedelta(days=3))
        if n % 3 == 0:
            referral_advance(referral_id=r.pk, stage=Stage.WON)
    with django_assert_max_num_queries(10):
        response = advocate_client.get(reverse("referrals:tracker"))
    assert response.status_code == 200


def test_lead_form_creates_referral_for_me(owned_advocate, advocate_client, rep):
    response = advocate_client.post(
        reverse("referrals:new"),
        {
            "referred_name": "Pat",
            "referred_email": "pat@buyer.example",
            "referred_company": "Buyer",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.advocate, referral.method, referral.owner_rep) == (
        owned_advocate,
        Method.LEAD_FORM,
        rep,
    )
    assert referral.created_by == owned_advocate.user


def test_lead_form_self_referral_refused_with_message(owned_advocate, advocate_client):
    response = advocate_client.post(
        reverse("referrals:new"),
        {"referred_name": "Me", "referred_email": owned_advocate.user.email},
    )
    assert response.status_code == 200
    assert "cannot refer yourself" in response.content.decode()
    assert not Referral.objects.exists()


def test_lead_form_duplicate_is_flagged_with_message(owned_advocate, advocate_client):
    ReferralFactory(referred_email="pat@buyer.example")
    response = advocate_client.post(
        reverse("referrals:new"),
        {"referred_name": "Pat", "referred_email": "pat@buyer.example"},
        follow=True,
    )
    assert "already referred recently" in response.content.decode()
    assert Referral.objects.get(advocate=owned_advocate).stage == Stage.REJECTED


def test_email_method_sends_my_edited_email_with_my_link(
    owned_advocate, advocate_client, django_capture_on_commit_callbacks
):
    link = referral_link_for(advocate_id=owned_advocate.pk)
    page = advocate_client.get(reverse("referrals:email")).content.decode()
    assert f"/r/{link.code}/" in page  # pre-written text carries my link
    with django_capture_on_commit_callbacks(execute=True):
        response = advocate_client.post(
            reverse("referrals:email"),
            {
                "referred_name": "Cole",
                "referred_email": "cole@buyer.example",
                "subject": "You should see this",
                "body": f"Hey Cole <b>, have a look: http://testserver/r/{link.code}/",
            },
        )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.method == Method.EMAIL
    to_colleague = [m for m in mail.outbox if m.to == ["cole@buyer.example"]]
    assert len(to_colleague) == 1
    message = to_colleague[0]
    assert message.subject == "You should see this"
    assert f"/r/{link.code}/" in message.body
    assert message.reply_to == [owned_advocate.user.email]
    assert "&lt;b&gt;" in message.alternatives[0][0]  # escaped in the HTML part
    assert ReferralMessage.objects.get().sent_at is not None


def test_share_page_has_intent_links_with_social_variant(owned_advocate, advocate_client):
    link = referral_link_for(advocate_id=owned_advocate.pk)
    body = advocate_client.get(reverse("referrals:share")).content.decode()
    social = f"http%3A%2F%2Ftestserver%2Fr%2F{link.code}%2F%3Fvia%3Dsocial"
    assert f"https://www.linkedin.com/sharing/share-offsite/?url={social}" in body
    assert "https://x.com/intent/post?" in body
    assert social in body
    assert f"https://www.facebook.com/sharer/sharer.php?u={social}" in body


def test_print_card_has_server_side_qr_svg_and_short_code(owned_advocate, advocate_client):
    link = referral_link_for(advocate_id=owned_advocate.pk)
    body = advocate_client.get(reverse("referrals:card")).content.decode()
    assert "<svg" in body
    assert "<path" in body
    assert link.card_code in body
    assert "cdn" not in body.lower()
    assert len(link.card_code) == 6


def test_hub_shows_my_link_and_latest_referrals(owned_advocate, advocate_client):
    ReferralFactory(advocate=owned_advocate, referred_name="Hub Lead")
    body = advocate_client.get(reverse("advocates:hub")).content.decode()
    link = owned_advocate.referral_link
    assert f"/r/{link.code}/" in body
    assert "Hub Lead" in body


def test_link_is_stable(owned_advocate):
    first = referral_link_for(advocate_id=owned_advocate.pk)
    assert referral_link_for(advocate_id=owned_advocate.pk) == first


def test_email_sender_name_with_comma_stays_one_address(
    owned_advocate, advocate_client, django_capture_on_commit_callbacks
):
    owned_advocate.user.first_name, owned_advocate.user.last_name = "Ada, PhD", "Lovelace"
    owned_advocate.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        advocate_client.post(
            reverse("referrals:email"),
            {
                "referred_name": "Cole",
                "referred_email": "cole@buyer.example",
                "subject": "Hi",
                "body": "Have a look",
            },
        )
    message = next(m for m in mail.outbox if m.to == ["cole@buyer.example"])
    assert message.message()["From"].startswith('"Ada, PhD Lovelace via')


class _Elements(HTMLParser):
    """Every start tag's attributes, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("page", ["referrals:tracker", "referrals:share", "advocates:hub"])
def test_personal_link_has_a_copy_button_for_its_readonly_field(
    owned_advocate, advocate_client, page
):
    link = referral_link_for(advocate_id=owned_advocate.pk)
    parser = _Elements()
    parser.feed(advocate_client.get(reverse(page)).content.decode())
    fields = {attrs.get("id"): attrs for tag, attrs in parser.tags if tag == "input"}
    buttons = [attrs for tag, attrs in parser.tags if tag == "button" and "data-copy" in attrs]
    targets = [fields[button["data-copy"].removeprefix("#")] for button in buttons]
    assert [field["value"] for field in targets] == [f"http://testserver/r/{link.code}/"]
    # Without JavaScript the field is still there to select; the button is not.
    assert "readonly" in targets[0]
    assert buttons[0]["type"] == "button"
    assert "hidden" in buttons[0]
