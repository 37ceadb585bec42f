"""Open redirects: ``next=`` on sign-in, sign-out and every view that honours it, the
campaign click-tracking links and the referral landing pages never send a visitor to
another site (or to a ``javascript:`` URL)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.authz import World
from tests.factories import PASSWORD
from tests.hostile.harness import client_for, offsite
from tests.hostile.payloads import REDIRECTS, hostile_settings
from tests.hostile.tally import tried
from tests.test_authorization import CASES

pytestmark = pytest.mark.django_db

EVIL = [
    *REDIRECTS,
    "https:evil.com",
    "///evil.com",
    "\\\\evil.com",
    "/\t/evil.com",
    " //evil.com",
    "http://testserver@evil.com",
    "https://evil.com%2F@testserver/",
    "//evil.com/%2e%2e",
    "data:text/html,<script>alert(1)</script>",
]


def test_the_offsite_check_itself_can_fail() -> None:
    assert offsite("//evil.com")
    assert offsite("/\\evil.com")
    assert offsite("javascript:alert(1)")
    assert not offsite("/hub/")
    assert not offsite("http://testserver/hub/")


@pytest.mark.parametrize("target", EVIL)
def test_sign_in_with_next_stays_on_the_site(advocate, target: str) -> None:
    tried("redirect targets")
    response = Client().post(
        reverse("account_login") + "?" + _q(target),
        {"login": advocate.user.email, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert not offsite(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_sign_out_with_next_stays_on_the_site(advocate, target: str) -> None:
    tried("redirect targets")
    client = Client()
    client.force_login(advocate.user)
    response = client.post(reverse("account_logout"), {"next": target})
    assert response.status_code == 302
    assert not offsite(response["Location"]), response["Location"]


def _q(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


def test_next_on_every_page_and_post_of_the_matrix_stays_on_the_site(world: World) -> None:
    """Every URL of the matrix, as each role it lets in, with each hostile ``next``."""
    problems = []
    for case in CASES:
        kwargs = case.kwargs(world) if callable(case.kwargs) else case.kwargs
        url = reverse(case.name, kwargs=kwargs)
        role = next((r for r in ("manager", "rep", "advocate") if case.expect[r] < 400), None)
        if role is None:
            continue
        data = case.data(world) if callable(case.data) else (case.data or {})
        for target in EVIL[:3]:
            tried("redirect targets")
            client = client_for(world, role)
            if case.method == "get":
                response = client.get(url, data=data | {"next": target})
            else:
                response = client.post(url + "?" + _q(target), data=data | {"next": target})
            location = response.get("Location", "")
            # Off-site and carrying our target: a click link leaving for the URL it was
            # signed for (example.org) is what it is for.
            lowered = location.lower()
            if offsite(location) and (
                "evil" in lowered or lowered.startswith(("javascript", "data"))
            ):
                problems.append(f"{case.id()} next={target!r} -> {location}")
    assert not problems, "\n".join(problems)


@hostile_settings(60)
@given(token=st.one_of(st.text(min_size=1, max_size=300), st.sampled_from(EVIL)))
def test_forged_click_tokens_never_redirect(token: str) -> None:
    from django.urls import NoReverseMatch

    tried("click tokens")
    try:
        url = reverse("campaigns:track_click", kwargs={"token": token})
    except NoReverseMatch:
        return  # a token with "/" cannot even form the URL
    response = Client().get(url)
    assert response.status_code in (400, 404, 410)
    assert not response.has_header("Location")


def test_a_signed_click_link_goes_only_where_it_was_signed_for(world: World) -> None:
    from campaigns.models import CampaignMessage
    from campaigns.sending import tracking

    message = CampaignMessage.objects.filter(campaign__status="sending").first() or (
        CampaignMessage.objects.first()
    )
    assert message is not None
    for target in EVIL:
        tried("redirect targets")
        token = tracking.token_make("click", message.pk, target)
        response = Client().get(reverse("campaigns:track_click", kwargs={"token": token}))
        if target.startswith(("https://", "http://")):
            assert response["Location"] == target  # what the manager linked to, exactly
        else:  # protocol-relative, backslashes, javascript:, data: — no redirect at all
            assert not response.has_header("Location"), (target, response["Location"])
            assert response.status_code == 400


@pytest.mark.parametrize("target", EVIL[:4])
def test_referral_landing_pages_ignore_next(world: World, target: str) -> None:
    tried("redirect targets", 2)
    code = world["link"].code
    for client in (Client(), client_for(world, "advocate")):
        response = client.get(reverse("referrals:landing", kwargs={"code": code}), {"next": target})
        assert not offsite(response.get("Location", ""))
        response = client.post(
            reverse("referrals:landing", kwargs={"code": code}),
            {"next": target, "name": "Pat", "email": "pat@prospect.example", "company": "P"},
        )
        assert response.status_code < 500
        assert not offsite(response.get("Location", ""))


@hostile_settings(60)
@given(
    token=st.one_of(st.text(min_size=1, max_size=300), st.sampled_from(EVIL)),
    view=st.sampled_from(["campaigns:track_open", "campaigns:unsubscribe"]),
    post=st.booleans(),
)
def test_forged_open_and_unsubscribe_tokens_change_nothing(
    token: str, view: str, post: bool
) -> None:
    from django.urls import NoReverseMatch

    from tests.hostile.harness import changed, table_counts

    tried("signed-link tokens")
    try:
        url = reverse(view, kwargs={"token": token})
    except NoReverseMatch:
        return
    before = table_counts()
    response = (Client().post if post else Client().get)(url)
    assert response.status_code < 500
    assert not changed(before, table_counts())


@pytest.mark.parametrize("message_id", [0, -1, 2**31, 2**63, 10**30])
def test_validly_signed_links_to_no_such_message_change_nothing(message_id: int) -> None:
    from campaigns.sending import tracking
    from tests.hostile.harness import changed, table_counts

    before = table_counts()
    for purpose, view in (
        ("open", "track_open"),
        ("unsubscribe", "unsubscribe"),
        ("click", "track_click"),
    ):
        tried("signed-link tokens")
        token = tracking.token_make(purpose, message_id, "https://example.org/")
        url = reverse(f"campaigns:{view}", kwargs={"token": token})
        for method in (Client().get, Client().post):
            assert method(url).status_code < 500
    assert not changed(before, table_counts())
