"""Accounts (django-allauth): invitation-only, verified email, no enumeration, rate limits."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from advocates.models import User
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def _login(client, email: str, password: str = factories.PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_page_has_no_sign_up_link_and_links_the_password_reset(client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("account_signup") not in body
    assert "sign up" not in body.lower()
    assert reverse("account_reset_password") in body
    assert "invitation" in body.lower()
    assert 'href="/static/css/app.css"' in body  # inside our own layout


def test_a_verified_member_signs_in(client, advocate) -> None:
    response = _login(client, "ADA@example.com")
    assert response.status_code == 302
    assert _signed_in(client)
    assert client.get(response.url).url == reverse("advocates:hub")


def test_a_wrong_password_is_refused_with_a_message(client, advocate) -> None:
    response = _login(client, "ada@example.com", "wrong-password")
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert not _signed_in(client)


def test_there_is_no_open_sign_up(client) -> None:
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign-up is by invitation" in body
    assert "<form" not in body.split("<main", 1)[1].split("</main>", 1)[0]

    response = client.post(
        reverse("account_signup"),
        {
            "email": "eve@example.com",
            "password1": "a-long-passphrase!",
            "password2": "a-long-passphrase!",
        },
    )
    assert not User.objects.exists()
    assert not _signed_in(client)
    assert mail.outbox == []


def test_an_unverified_email_cannot_sign_in(client) -> None:
    user = factories.UserFactory(email="new@example.com")
    EmailAddress.objects.filter(user=user).update(verified=False)
    response = _login(client, "new@example.com")
    assert not _signed_in(client)
    # allauth sends a verification email and shows the "verify your email" page.
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    page = client.get(response.url)
    assert "Verify your email address" in page.content.decode()
    assert len(mail.outbox) == 1
    assert client.get(reverse("advocates:hub")).status_code == 302


def test_password_reset_mails_a_known_address(client, advocate) -> None:
    response = client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body)
    assert link is not None

    # The link works: a new password, then signing in with it.
    path = "/" + link.group(0).split("/", 3)[3]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    action = form.redirect_chain[-1][0] if form.redirect_chain else path
    done = client.post(
        action, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"}
    )
    assert done.status_code == 302
    assert _login(client, "ada@example.com", "a-brand-new-passphrase").status_code == 302
    assert _signed_in(client)


def test_password_reset_does_not_reveal_unknown_addresses(client, advocate) -> None:
    known = client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert (unknown.status_code, unknown.url) == (known.status_code, known.url)
    done = client.get(unknown.url).content.decode()
    assert "nobody@example.com" not in done
    # No reset link ever goes to an address without an account.
    for message in mail.outbox:
        if message.to == ["nobody@example.com"]:
            assert "/password/reset/key/" not in message.body


def test_the_admin_sends_anonymous_users_to_the_allauth_login(client) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1] == (f"{LOGIN}?next=%2Fadmin%2F", 302)
    assert response.status_code == 200
    assert b"Sign in" in response.content
    # Its own login form is never shown: /admin/login/ hands over to allauth too.
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_the_admin_login_is_rate_limited_like_any_login(client, admin_user) -> None:
    client.get("/admin/")
    for _ in range(6):
        response = client.post(
            f"{LOGIN}?next=/admin/", {"login": "admin@example.com", "password": "guess"}
        )
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_admin_is_for_staff_only(advocate_client, admin_user, client) -> None:
    assert advocate_client.get("/admin/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200


def test_login_failures_are_rate_limited(client, advocate) -> None:
    for _ in range(5):
        assert _login(client, "ada@example.com", "wrong-password").status_code == 200
    response = _login(client, "ada@example.com", "wrong-password")
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    # Even the right password is refused while the limit holds.
    response = _login(client, "ada@example.com")
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)


def test_signing_out_asks_to_confirm_and_then_signs_out(advocate_client) -> None:
    page = advocate_client.get(reverse("account_logout"))
    assert page.status_code == 200
    assert "Are you sure you want to sign out?" in page.content.decode()
    response = advocate_client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert response.url == LOGIN
    assert not _signed_in(advocate_client)


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("account_login", "Sign in"),
        ("account_signup", "Sign-up is by invitation"),
        ("account_reset_password", "Reset your password"),
        ("account_reset_password_done", "Check your email"),
        ("account_email_verification_sent", "Verify your email address"),
        ("account_reset_password_from_key_done", "Password changed"),
    ],
)
def test_account_pages_render_in_our_layout(client, name: str, heading: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<h1>{heading}</h1>" in body
    assert 'class="card auth"' in body
    assert 'href="/static/css/app.css"' in body
    assert "Menu:" not in body  # allauth's bare default layout is not used


def test_the_sign_out_page_renders_in_our_layout(advocate_client) -> None:
    body = advocate_client.get(reverse("account_logout")).content.decode()
    assert "<h1>Sign out</h1>" in body
    assert 'class="btn" type="submit">Sign out</button>' in body
