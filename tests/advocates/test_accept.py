"""Opening an invitation link and joining: the account, the profile, the welcome points."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.urls import reverse

from advocates import links, services
from advocates.models import Advocate, Invitation, User
from rewards.models import LedgerEntry
from tests import factories
from tests.concurrency import run_at_once

PASSWORD = "a-long-and-unusual-passphrase"


def _accept_url(invitation: Invitation) -> str:
    return reverse("advocates:accept", kwargs={"token": links.invitation_token(invitation)})


def _join(client, url: str, password: str = PASSWORD, repeat: str | None = None):
    return client.post(url, {"password1": password, "password2": repeat or password})


def _nothing_joined(invitation: Invitation) -> None:
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not User.objects.filter(email=invitation.email).exists()
    assert not Advocate.objects.filter(user__email=invitation.email).exists()
    assert not LedgerEntry.objects.exists()


@pytest.fixture
def invitation(rep) -> Invitation:
    return factories.InvitationFactory(
        email="jo@example.com",
        first_name="Jo",
        last_name="Day",
        company_name="Globex",
        title="CTO",
        invited_by=rep,
    )


# --- Joining ---------------------------------------------------------------------------


def test_the_link_page_names_the_invited_address(client, invitation) -> None:
    response = client.get(_accept_url(invitation))
    assert response.status_code == 200
    body = response.content.decode()
    assert "jo@example.com" in body
    assert "Ravi" in body  # who invited them
    assert 'name="password1"' in body
    assert f"You get {settings.WELCOME_POINTS} welcome points" in body


def test_accepting_creates_a_verified_active_member_with_welcome_points(
    client, invitation, rep, django_capture_on_commit_callbacks
) -> None:
    # The welcome points are a task run once the join commits (in-process here).
    with django_capture_on_commit_callbacks(execute=True):
        response = _join(client, _accept_url(invitation))
    assert response.status_code == 302
    assert response.url == reverse("advocates:hub")

    user = User.objects.get(email="jo@example.com")
    assert (user.first_name, user.last_name) == ("Jo", "Day")
    assert user.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    advocate = user.advocate
    assert advocate.status == Advocate.Status.ACTIVE
    assert advocate.joined_at is not None
    assert advocate.title == "CTO"
    assert advocate.company.name == "Globex"
    assert advocate.owner_rep == rep
    entry = LedgerEntry.objects.get()
    assert (entry.advocate, entry.amount) == (advocate, settings.WELCOME_POINTS)
    advocate.refresh_from_db()
    assert advocate.balance == settings.WELCOME_POINTS
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by == user

    # Signed in, and the hub shows the welcome points.
    hub = client.get(response.url)
    assert hub.status_code == 200
    body = hub.content.decode()
    assert "Welcome to the community" in body
    assert f"+{settings.WELCOME_POINTS}" in body


def test_the_new_member_can_sign_in_later_with_their_password(client, invitation) -> None:
    _join(client, _accept_url(invitation))
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "jo@example.com", "password": PASSWORD}
    )
    # The invitation verified the address: allauth lets them straight in.
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("advocates:hub")).status_code == 200


def test_joining_reuses_an_existing_company_by_name(client, invitation) -> None:
    company = factories.CompanyFactory(name="GLOBEX")
    _join(client, _accept_url(invitation))
    assert Advocate.objects.get(user__email="jo@example.com").company == company


def test_a_manager_inviting_does_not_become_owner_rep(client, manager) -> None:
    invitation = factories.InvitationFactory(email="jo@example.com", invited_by=manager)
    _join(client, _accept_url(invitation))
    assert Advocate.objects.get(user__email="jo@example.com").owner_rep is None


def test_a_weak_password_shows_the_validator_message_and_creates_nothing(
    client, invitation
) -> None:
    response = _join(client, _accept_url(invitation), password="12345678")
    assert response.status_code == 200
    body = response.content.decode()
    assert "This password is too common." in body
    assert "This password is entirely numeric." in body
    _nothing_joined(invitation)


def test_a_password_like_the_email_is_refused(client, invitation) -> None:
    response = _join(client, _accept_url(invitation), password="jo@example.com")
    assert response.status_code == 200
    assert "too similar" in response.content.decode()
    _nothing_joined(invitation)


def test_two_different_passwords_are_refused(client, invitation) -> None:
    response = _join(client, _accept_url(invitation), repeat="something-else-entirely")
    assert response.status_code == 200
    assert "The two passwords are different." in response.content.decode()
    _nothing_joined(invitation)


def test_signed_in_as_the_invited_address_joins_with_one_click(
    invitation, rep, django_capture_on_commit_callbacks
) -> None:
    """E.g. someone who has an account already (a former advocate who left)."""
    user = factories.UserFactory(email="jo@example.com")
    factories.AdvocateFactory(user=user, status=Advocate.Status.LEFT, owner_rep=None)
    from django.test import Client

    client = Client()
    client.force_login(user)
    url = _accept_url(invitation)
    assert "one click" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    advocate = Advocate.objects.get(user=user)
    assert advocate.status == Advocate.Status.ACTIVE
    assert advocate.owner_rep == rep
    assert LedgerEntry.objects.filter(advocate=advocate).count() == 1


def test_an_existing_account_signs_in_and_comes_back_to_join(client, invitation) -> None:
    factories.UserFactory(email="jo@example.com")
    url = _accept_url(invitation)
    page = client.get(url).content.decode()
    assert "You already have an account with this address." in page
    assert 'name="password1"' not in page
    login = f"{reverse('account_login')}?next={quote(url)}"
    assert login.replace("&", "&amp;") in page

    response = client.post(login, {"login": "jo@example.com", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.url == url
    assert "one click" in client.get(url).content.decode()
    assert client.post(url).url == reverse("advocates:hub")
    assert Advocate.objects.get(user__email="jo@example.com").status == Advocate.Status.ACTIVE


def test_an_existing_account_must_sign_in_first(client, invitation) -> None:
    factories.UserFactory(email="jo@example.com")
    response = _join(client, _accept_url(invitation))
    assert response.status_code == 409
    assert "already exists: sign in" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not LedgerEntry.objects.exists()


# --- Refused links ---------------------------------------------------------------------


def test_a_tampered_token_is_refused(client, invitation) -> None:
    token = links.invitation_token(invitation)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage", token + "x"):
        response = client.get(reverse("advocates:accept", kwargs={"token": bad}))
        assert response.status_code == 410
        assert "This invitation link is not valid." in response.content.decode()
        response = _join(client, reverse("advocates:accept", kwargs={"token": bad}))
        assert response.status_code == 410
    _nothing_joined(invitation)


def test_a_token_signed_for_another_address_is_refused(client, invitation) -> None:
    from django.core import signing

    forged = signing.dumps(
        {"i": invitation.pk, "e": "mallory@example.com", "n": invitation.nonce},
        salt=links.INVITATION_SALT,
    )
    response = _join(client, reverse("advocates:accept", kwargs={"token": forged}))
    assert response.status_code == 410
    _nothing_joined(invitation)


def test_an_expired_token_is_refused(client, invitation) -> None:
    days = settings.INVITATION_MAX_AGE_DAYS
    with mock.patch("time.time", return_value=time.time() - (days * 86400 + 60)):
        expired = reverse("advocates:accept", kwargs={"token": _token(invitation)})
    with mock.patch("time.time", return_value=time.time() - (days * 86400 - 60)):
        still_valid = reverse("advocates:accept", kwargs={"token": _token(invitation)})

    response = client.get(expired)
    assert response.status_code == 410
    assert "This invitation link has expired." in response.content.decode()
    response = _join(client, expired)
    assert response.status_code == 410
    _nothing_joined(invitation)
    assert client.get(still_valid).status_code == 200


def _token(invitation: Invitation) -> str:
    return links.invitation_token(invitation)


def test_the_expiry_follows_the_setting(client, invitation, settings) -> None:
    url = _accept_url(invitation)
    settings.INVITATION_MAX_AGE_DAYS = 1
    with mock.patch(
        "time.time", return_value=time.time() + timedelta(days=1, minutes=1).total_seconds()
    ):
        response = client.get(url)
    assert response.status_code == 410


def test_a_used_token_is_refused_the_second_time(
    client, invitation, django_capture_on_commit_callbacks
) -> None:
    url = _accept_url(invitation)
    with django_capture_on_commit_callbacks(execute=True):
        assert _join(client, url).status_code == 302
    client.logout()
    response = _join(client, url, password="another-long-passphrase")
    assert response.status_code == 410
    assert "already been accepted" in response.content.decode()
    assert User.objects.filter(email="jo@example.com").count() == 1
    assert User.objects.get(email="jo@example.com").check_password(PASSWORD)
    assert LedgerEntry.objects.count() == 1


def test_accepting_while_signed_in_as_another_address_is_refused(
    advocate_client, invitation
) -> None:
    url = _accept_url(invitation)
    response = advocate_client.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "This invitation is for jo@example.com, but you are signed in as ada@example.com" in body
    response = advocate_client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 403
    _nothing_joined(invitation)


def test_signing_out_from_the_refusal_page_comes_back_to_the_link(
    advocate_client, invitation
) -> None:
    url = _accept_url(invitation)
    assert "Sign out and join" in advocate_client.get(url).content.decode()
    response = advocate_client.post(reverse("account_logout"), {"next": url})
    assert response.status_code == 302
    assert response.url == url
    assert advocate_client.get(url).status_code == 200


def test_the_service_refuses_a_signed_in_user_with_another_address(invitation, advocate) -> None:
    with pytest.raises(services.InvitationError, match=r"signed in as ada@example\.com"):
        services.invitation_accept(token=_token(invitation), user=advocate.user)
    _nothing_joined(invitation)


def test_accepting_twice_through_the_service_gives_one_account(
    invitation, django_capture_on_commit_callbacks
) -> None:
    token = _token(invitation)
    with django_capture_on_commit_callbacks(execute=True):
        advocate = services.invitation_accept(token=token, password=PASSWORD)
    with pytest.raises(services.InvitationLinkUsed):
        services.invitation_accept(token=token, password=PASSWORD)
    with pytest.raises(services.InvitationLinkUsed):
        services.invitation_accept(token=token, user=advocate.user)
    assert User.objects.filter(email="jo@example.com").count() == 1
    assert Advocate.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    advocate.refresh_from_db()
    assert advocate.balance == settings.WELCOME_POINTS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accepts_racing_give_one_account() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    invitation = factories.InvitationFactory(email="jo@example.com")
    token = _token(invitation)
    outcomes = run_at_once(
        lambda _: services.invitation_accept(token=token, password=PASSWORD), threads=4
    )
    refused = [o for o in outcomes if isinstance(o, services.InvitationError)]
    joined = [o for o in outcomes if not isinstance(o, Exception)]
    assert (len(joined), len(refused)) == (1, 3), outcomes
    assert User.objects.filter(email="jo@example.com").count() == 1
    assert LedgerEntry.objects.count() == 1
    assert Advocate.objects.get().balance == settings.WELCOME_POINTS
