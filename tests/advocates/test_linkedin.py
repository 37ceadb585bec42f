"""Joining with LinkedIn: allowed only to accept the invitation held in the session."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse

from advocates import links, services
from advocates.adapters import AccountAdapter, SocialAccountAdapter
from tests import factories


@pytest.fixture
def invitation(rep):
    return factories.InvitationFactory(email="jo@example.com", invited_by=rep)


def _request(token: str | None = None):
    request = RequestFactory().get("/")
    request.session = SessionStore()
    if token:
        request.session[services.SESSION_INVITATION_TOKEN] = token
    return request


def test_password_sign_up_is_always_closed() -> None:
    assert AccountAdapter().is_open_for_signup(_request()) is False


def test_linkedin_sign_up_needs_a_valid_invitation_in_the_session(invitation) -> None:
    adapter = SocialAccountAdapter()
    assert adapter.is_open_for_signup(_request(), None) is False
    assert adapter.is_open_for_signup(_request("tampered"), None) is False
    token = links.invitation_token(invitation)
    assert adapter.is_open_for_signup(_request(token), None) is True
    services.invitation_accept(token=token, password="a-long-unusual-passphrase")
    assert adapter.is_open_for_signup(_request(token), None) is False  # used up


def test_the_linkedin_button_remembers_the_invitation_and_hands_over(
    client, invitation, settings
) -> None:
    settings.LINKEDIN_CLIENT_ID = "client-id"
    token = links.invitation_token(invitation)
    assert (
        "Continue with LinkedIn"
        in client.get(reverse("advocates:accept", args=[token])).content.decode()
    )
    response = client.post(reverse("advocates:accept_linkedin", args=[token]))
    assert response.status_code == 302
    assert response.url == (
        reverse("openid_connect_login", kwargs={"provider_id": "linkedin"}) + "?process=login"
    )
    assert client.session[services.SESSION_INVITATION_TOKEN] == token


def test_the_linkedin_button_refuses_a_bad_link(client, invitation, settings) -> None:
    settings.LINKEDIN_CLIENT_ID = "client-id"
    response = client.post(reverse("advocates:accept_linkedin", args=["tampered"]))
    assert response.status_code == 410
    assert services.SESSION_INVITATION_TOKEN not in client.session


def test_without_linkedin_configured_the_button_is_hidden(client, invitation) -> None:
    token = links.invitation_token(invitation)
    assert "LinkedIn" not in client.get(reverse("advocates:accept", args=[token])).content.decode()
    response = client.post(reverse("advocates:accept_linkedin", args=[token]))
    assert response.status_code == 302
    assert response.url == reverse("advocates:accept", args=[token])
