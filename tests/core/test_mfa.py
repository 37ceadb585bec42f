"""Two-factor authentication: offered to everyone, required for managers and admins."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from core.mfa import MESSAGE
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
SETUP = reverse("mfa_activate_totp")
CONSOLE_PAGES = (
    "challenges:manage",
    "rewards:fulfilment",
    "core:audit",
    "advocates:directory",
)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _password_login(client: Client, email: str):
    return client.post(LOGIN, {"login": email, "password": factories.PASSWORD})


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_a_manager_without_an_authenticator_is_sent_to_set_one_up(client, page) -> None:
    manager = factories.ManagerFactory(totp=False)
    client.force_login(manager)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response.url == SETUP
    # Setting it up asks for the password again first (allauth), and says why.
    setup = client.get(SETUP, follow=True)
    assert setup.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert MESSAGE in setup.content.decode()


def test_an_htmx_request_of_such_a_manager_redirects_the_whole_page(client) -> None:
    manager = factories.ManagerFactory(totp=False)
    client.force_login(manager)
    response = client.get(reverse("core:audit"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == SETUP


def test_an_admin_without_an_authenticator_is_sent_to_set_one_up(client) -> None:
    admin = factories.UserFactory(is_staff=True, is_superuser=True, totp=False)
    client.force_login(admin)
    assert client.get(reverse("admin:index")).url == SETUP
    # Their account pages stay open: that is where the authenticator is set up.
    assert client.get(reverse("mfa_index")).status_code == 200


def test_advocates_and_reps_are_not_forced(advocate_client, rep_client) -> None:
    hub = advocate_client.get(reverse("advocates:hub"))
    assert hub.status_code == 200
    # ... but offered: the top bar links the two-factor page.
    assert reverse("mfa_index") in hub.content.decode()  # the address in the top bar
    assert advocate_client.get(reverse("mfa_index")).status_code == 200
    assert rep_client.get(reverse("advocates:directory")).status_code == 200


def test_the_requirement_can_be_turned_off(client, settings) -> None:
    settings.VOUCH_MFA_REQUIRED_FOR_MANAGERS = False
    client.force_login(factories.ManagerFactory(totp=False))
    assert client.get(reverse("challenges:manage")).status_code == 200


def test_a_manager_with_an_authenticator_gets_the_console(manager_client) -> None:
    for page in CONSOLE_PAGES:
        assert manager_client.get(reverse(page)).status_code == 200, page


def test_sign_in_asks_for_the_code_and_refuses_a_wrong_one(client, manager) -> None:
    response = _password_login(client, manager.email)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert not _signed_in(client)  # the password alone is not enough
    # Nothing in the console before the code.
    assert client.get(reverse("challenges:manage")).status_code == 302
    assert not _signed_in(client)

    right = factories.totp_code()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    refused = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert refused.status_code == 200
    assert "Incorrect code" in refused.content.decode()
    assert not _signed_in(client)

    accepted = client.post(reverse("mfa_authenticate"), {"code": right})
    assert accepted.status_code == 302
    assert _signed_in(client)
    assert client.get(reverse("challenges:manage")).status_code == 200


def test_a_code_is_accepted_once(client, manager) -> None:
    code = factories.totp_code()
    _password_login(client, manager.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert _signed_in(client)
    other = Client()
    _password_login(other, manager.email)
    replay = other.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200
    assert not _signed_in(other)


def test_an_advocate_signs_in_with_a_password_only(client, advocate) -> None:
    response = _password_login(client, advocate.user.email)
    assert _signed_in(client)
    assert response.url != reverse("mfa_authenticate")


def test_a_manager_sets_up_the_authenticator_and_reaches_the_console(client) -> None:
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    manager = factories.ManagerFactory(totp=False)
    first = _password_login(client, manager.email)
    assert _signed_in(client)  # no authenticator yet: no code asked
    assert client.get(first.url).url == SETUP  # home sends them to the setup
    # allauth asks for the password again before adding an authenticator.
    assert client.get(SETUP).url.startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    page = client.get(SETUP)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()  # the QR code
    secret = client.session[SECRET_SESSION_KEY]

    wrong = client.post(
        SETUP, {"code": "000000" if factories.totp_code(secret) != "000000" else "1"}
    )
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=manager).exists()

    done = client.post(SETUP, {"code": factories.totp_code(secret)})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=manager, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("challenges:manage")).status_code == 200


def test_an_advocate_may_add_an_authenticator_and_is_then_asked_for_codes(client, advocate) -> None:
    factories.totp_activate(advocate.user)
    response = _password_login(client, advocate.user.email)
    assert response.url == reverse("mfa_authenticate")
    assert not _signed_in(client)


def test_demo_totp_prints_the_demo_managers_code(settings, capsys) -> None:
    from demo.management.commands.demo_data import DEMO_TOTP_SECRET

    user = factories.ManagerFactory(email="manager@demo.vouch", totp=False)
    factories.totp_activate(user, DEMO_TOTP_SECRET)
    settings.DEBUG = True
    call_command("demo_totp")
    printed = capsys.readouterr().out.strip()
    assert printed in {factories.totp_code(DEMO_TOTP_SECRET, offset=o) for o in (0, -1)}
    with pytest.raises(CommandError, match="not a demo user"):
        call_command("demo_totp", "someone@example.com")


def test_demo_totp_refuses_outside_debug(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_totp")
