"""The public landing page: attribution without cookies, card codes, spam protection."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals.models import Method, Referral, ReferralLink, Stage
from referrals.services import referral_link_for
from referrals.visitors import VISITOR_COOKIE
from tests.factories import AdvocateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(owned_advocate) -> ReferralLink:
    return referral_link_for(advocate_id=owned_advocate.pk)


@pytest.fixture
def other_link(db) -> ReferralLink:
    return referral_link_for(advocate_id=AdvocateFactory().pk)


def _lead(**kwargs) -> dict:
    return {
        "name": "Lee Lead",
        "email": "lee@buyer.example",
        "company": "Buyer Co",
        "title": "CTO",
        "message": "We need this",
    } | kwargs


def _submit(url: str, data: dict, *, ip: str = "10.0.0.1"):
    """A fresh browser: no cookies. GET the page (CSRF cookie), then POST the form."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)
    page = client.get(url)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    hidden = dict(
        re.findall(r'<input type="hidden" name="(code|via)" value="([^"]*)"', page.content.decode())
    )
    return client, client.post(url, hidden | data | {"csrfmiddlewaretoken": token})


def test_lead_through_link_in_fresh_session_is_credited(link, other_link, rep):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    client, response = _submit(url, _lead())
    assert response.status_code == 302
    assert response["Location"] == f"{url}?sent=1"
    referral = Referral.objects.get()
    assert (referral.advocate_id, referral.method) == (link.advocate_id, Method.SHAREABLE_LINK)
    assert referral.owner_rep == rep
    assert referral.referred_email == "lee@buyer.example"
    assert "session" not in "".join(client.cookies)  # no session: attribution is the code
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_code_in_the_hidden_field_attributes_on_the_generic_page(link):
    client = Client()
    response = client.post(reverse("referrals:card_landing"), _lead(code=link.code))
    assert response.status_code == 302
    assert Referral.objects.get().advocate_id == link.advocate_id


def test_social_variant_attributes_to_social(link):
    url = reverse("referrals:landing", kwargs={"code": link.code}) + "?via=social"
    _submit(url, _lead())
    assert Referral.objects.get().method == Method.SOCIAL


def test_card_code_in_url_attributes_to_print_card(link):
    url = reverse("referrals:landing", kwargs={"code": link.card_code.lower()})
    _submit(url, _lead())
    referral = Referral.objects.get()
    assert (referral.advocate_id, referral.method) == (link.advocate_id, Method.PRINT_CARD)


def test_typed_card_code_attributes_to_print_card(link, other_link):
    url = reverse("referrals:card_landing")
    _, response = _submit(url, _lead(card_code=f" {link.card_code.lower()} "))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.advocate_id, referral.method) == (link.advocate_id, Method.PRINT_CARD)


def test_typed_card_code_wins_over_the_page_it_was_typed_on(link, other_link):
    url = reverse("referrals:landing", kwargs={"code": other_link.code})
    _submit(url, _lead(card_code=link.card_code))
    referral = Referral.objects.get()
    assert (referral.advocate_id, referral.method) == (link.advocate_id, Method.PRINT_CARD)


def test_unknown_or_missing_card_code_is_a_clear_error(link):
    url = reverse("referrals:card_landing")
    _, response = _submit(url, _lead(card_code="ZZZZZZ"))
    assert response.status_code == 200
    assert "This card code is unknown" in response.content.decode()
    _, response = _submit(url, _lead(), ip="10.0.0.2")
    assert "Type the code printed on your referral card" in response.content.decode()
    assert not Referral.objects.exists()


def test_visits_are_counted_on_views_not_on_thanks(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    Client(REMOTE_ADDR="10.0.0.1").get(url)
    Client(REMOTE_ADDR="10.0.0.2").get(url + "?via=social")
    Client(REMOTE_ADDR="10.0.0.3").get(url + "?sent=1")
    link.refresh_from_db()
    assert link.visits == 2


def _visits(link: ReferralLink) -> int:
    link.refresh_from_db()
    return link.visits


def test_a_visitor_counts_once_a_day_however_often_they_reload(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    first = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(50):
        assert first.get(url).status_code == 200
    assert _visits(link) == 1
    # Off the office network onto the phone's: the cookie still says who it is.
    first.defaults["REMOTE_ADDR"] = "192.0.2.7"
    first.get(url)
    assert _visits(link) == 1
    second = Client(REMOTE_ADDR="10.0.0.2")
    second.get(url)
    second.get(url + "?via=social")
    assert _visits(link) == 2

    tomorrow = timezone.now() + timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        for _ in range(3):
            first.get(url)
            second.get(url)
    assert _visits(link) == 4


def test_a_visitor_without_cookies_is_known_by_address_and_browser(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="Firefox")
    for _ in range(10):
        client.cookies.clear()
        client.get(url)
    # A forged visitor cookie is not a new visitor either.
    client.cookies[VISITOR_COOKIE] = "forged"
    client.get(url)
    assert _visits(link) == 1
    # The cookie given on the first visit keeps that visitor counted once.
    client.cookies.clear()
    client.get(url)
    client.get(url)
    assert _visits(link) == 1
    Client(REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="Safari").get(url)
    assert _visits(link) == 2


def test_the_visitor_cookie_is_first_party_http_only_and_kept_a_year(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    client = Client()
    cookie = client.get(url, secure=True).cookies[VISITOR_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert VISITOR_COOKIE not in client.get(url).cookies  # set once, not on every view


def test_unknown_code_404(db):
    assert Client().get("/r/doesnotexist/").status_code == 404


def test_honeypot_pretends_success_and_creates_nothing(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    _, response = _submit(url, _lead(website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert not Referral.objects.exists()


def test_flood_from_one_ip_is_throttled(link, settings):
    settings.REFERRAL_LANDING_MAX_POSTS = 3
    url = reverse("referrals:landing", kwargs={"code": link.code})
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.post(url, _lead(email=f"lead{n}@buyer{n}.example")).status_code for n in range(6)
    ]
    assert statuses == [302, 302, 302, 429, 429, 429]
    assert Referral.objects.count() == 3
    throttled = client.post(url, _lead(email="late@late.example"))
    assert "Too many submissions" in throttled.content.decode()
    # Another address is not affected.
    assert (
        Client(REMOTE_ADDR="203.0.113.10").post(url, _lead(email="ok@ok.example")).status_code
        == 302
    )


def test_csrf_is_enforced(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    response = Client(enforce_csrf_checks=True).post(url, _lead(code=link.code))
    assert response.status_code == 403
    assert not Referral.objects.exists()


def test_self_referral_through_landing_is_refused(link, owned_advocate):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    _, response = _submit(url, _lead(email=owned_advocate.user.email))
    assert response.status_code == 200
    assert "cannot refer yourself" in response.content.decode()
    assert not Referral.objects.exists()


def test_duplicate_through_landing_is_flagged_not_leaked(link, other_link):
    _submit(reverse("referrals:landing", kwargs={"code": link.code}), _lead())
    _, response = _submit(
        reverse("referrals:landing", kwargs={"code": other_link.code}), _lead(), ip="10.0.0.3"
    )
    assert response.status_code == 302  # the lead is thanked either way
    dupe = Referral.objects.get(advocate_id=other_link.advocate_id)
    assert dupe.stage == Stage.REJECTED
    assert dupe.duplicate_of.advocate_id == link.advocate_id


def test_invalid_form_keeps_the_code(link):
    url = reverse("referrals:landing", kwargs={"code": link.code})
    _, response = _submit(url, _lead(email="nope"))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'name="code" value="{link.code}"' in body
    assert not Referral.objects.exists()


def test_landing_renders_at_mobile_width_without_login(link):
    body = Client().get(reverse("referrals:landing", kwargs={"code": link.code})).content.decode()
    assert link.advocate.name in body
    assert 'name="website"' in body  # honeypot present
    assert "Sign out" not in body
