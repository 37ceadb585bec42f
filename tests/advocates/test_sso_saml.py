"""Staff single sign-on through SAML 2.0: a test IdP (saml_idp.py) signs assertions that
are posted to the ACS as a browser would after the IdP's redirect."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from advocates import sso
from advocates.models import User
from core.mfa import SESSION_KEY
from core.models import AuditEntry
from core.roles import MANAGERS_GROUP, REPS_GROUP
from tests import factories
from tests.advocates.saml_idp import (
    HOST,
    IDP_SSO_URL,
    MFA_CONTEXT,
    SP_ENTITY_ID,
    Assertion,
    configure,
    idp_keys,
)

pytestmark = pytest.mark.django_db

MANAGERS = "vouch-managers"
REPS = "vouch-reps"
LOGIN = reverse("saml_login", kwargs={"organization_slug": "company"}) + "?process=login"
ACS = reverse("saml_acs", kwargs={"organization_slug": "company"})


def _browser() -> Client:
    return Client(HTTP_HOST=HOST)


@pytest.fixture
def client() -> Client:
    return _browser()


@pytest.fixture(autouse=True)
def saml(settings):
    """SSO configured as VOUCH_SSO_SAML_* would (config/settings/ builds the same app)."""
    settings.ALLOWED_HOSTS = [HOST]
    configure(settings, manager_groups=[MANAGERS], rep_groups=[REPS])
    cache.clear()
    yield
    cache.clear()


def _start(client: Client) -> str:
    """Press "Sign in with your company account"; the AuthnRequest ID the IdP answers."""
    response = client.post(LOGIN)
    assert response.status_code == 302
    assert response.url.startswith(IDP_SSO_URL)
    request = parse_qs(urlparse(response.url).query)["SAMLRequest"][0]
    xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(request).decode()
    return re.search(r' ID="([^"]+)"', xml).group(1)


def _post(client: Client, assertion: Assertion):
    """The IdP's auto-submitted form to the ACS, then allauth's finishing step."""
    response = client.post(ACS, {"SAMLResponse": assertion.response()})
    assert response.status_code == 302
    return client.get(response.url)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _refused(response, client: Client) -> str:
    assert not _signed_in(client)
    assert response.status_code in {401, 403}
    return response.content.decode()


def test_the_sign_in_page_offers_the_company_account_only_when_configured(client, settings):
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with your company account" in page
    assert LOGIN.replace("&", "&amp;") in page or LOGIN in page
    settings.VOUCH_SSO_SAML_IDP_ENTITY_ID = ""
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers["saml"]["APPS"] = []
    settings.SOCIALACCOUNT_PROVIDERS = providers
    assert "company account" not in client.get(reverse("account_login")).content.decode()


def test_the_sp_metadata_names_the_acs_to_register(client):
    metadata = client.get(reverse("saml_metadata", kwargs={"organization_slug": "company"}))
    assert metadata.status_code == 200
    body = metadata.content.decode()
    assert f'entityID="{SP_ENTITY_ID}"' in body
    assert f'Location="http://{HOST}/accounts/saml/company/acs/"' in body


def test_a_manager_with_idp_mfa_lands_in_the_console_without_a_totp_prompt(client):
    manager = factories.ManagerFactory(email="maya@corp.example")  # has a TOTP too
    request_id = _start(client)
    response = _post(
        client,
        Assertion(
            email="maya@corp.example",
            in_response_to=request_id,
            groups=[MANAGERS],
            authn_context=MFA_CONTEXT,
        ),
    )
    assert _signed_in(client)
    assert response.status_code == 302
    assert response.url != reverse("mfa_authenticate")
    assert int(client.session["_auth_user_id"]) == manager.pk
    assert client.session[SESSION_KEY] == manager.pk
    console = client.get(response.url, follow=True)
    assert console.redirect_chain[-1][0] == reverse("console:home")
    assert console.status_code == 200
    assert SocialAccount.objects.filter(user=manager, provider="saml").exists()


def test_a_manager_without_idp_mfa_must_still_enter_their_totp(client):
    factories.ManagerFactory(email="maya@corp.example")
    response = _post(
        client,
        Assertion(email="maya@corp.example", in_response_to=_start(client), groups=[MANAGERS]),
    )
    assert response.url == reverse("mfa_authenticate")
    assert not _signed_in(client)
    accepted = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code()})
    assert accepted.status_code == 302
    assert _signed_in(client)
    assert client.get(reverse("console:home")).status_code == 200


def test_a_new_manager_without_idp_mfa_is_sent_to_set_up_an_authenticator(client):
    _post(
        client,
        Assertion(email="new@corp.example", in_response_to=_start(client), groups=[MANAGERS]),
    )
    assert _signed_in(client)
    assert client.get(reverse("console:home")).url == reverse("mfa_activate_totp")


def test_a_new_staff_member_is_created_with_the_group_the_idp_says(client):
    response = _post(
        client,
        Assertion(
            email="Rita@Corp.example",
            first_name="Rita",
            last_name="Rep",
            in_response_to=_start(client),
            groups=["everyone", REPS],
        ),
    )
    user = User.objects.get(email__iexact="rita@corp.example")
    assert (user.first_name, user.last_name) == ("Rita", "Rep")
    assert list(user.groups.values_list("name", flat=True)) == [REPS_GROUP]
    assert user.emailaddress_set.get().verified
    assert client.get(response.url, follow=True).redirect_chain[-1][0] == reverse(
        "advocates:directory"
    )
    entry = AuditEntry.objects.get(action="user.sso_groups")
    assert entry.detail == {"added": [REPS_GROUP], "removed": [], "provider": "saml"}


def test_groups_follow_the_idp_at_every_sign_in(client):
    person = factories.RepFactory(email="pat@corp.example")
    _post(
        client,
        Assertion(
            email="pat@corp.example",
            in_response_to=_start(client),
            groups=[MANAGERS],
            authn_context=MFA_CONTEXT,
        ),
    )
    assert set(person.groups.values_list("name", flat=True)) == {MANAGERS_GROUP}
    assert client.get(reverse("console:home")).status_code == 200  # a manager now

    other = _browser()
    _post(
        other,
        Assertion(
            email="pat@corp.example",
            in_response_to=_start(other),
            groups=[REPS],
            authn_context=MFA_CONTEXT,
        ),
    )
    assert set(person.groups.values_list("name", flat=True)) == {REPS_GROUP}
    # The first browser's next page already reads the new roles: no console any more.
    assert client.get(reverse("console:home")).status_code == 403
    details = list(
        AuditEntry.objects.filter(action="user.sso_groups")
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert details == [
        {"added": [MANAGERS_GROUP], "removed": [REPS_GROUP], "provider": "saml"},
        {"added": [REPS_GROUP], "removed": [MANAGERS_GROUP], "provider": "saml"},
    ]


def test_an_assertion_without_a_staff_group_is_refused_and_creates_nobody(client):
    page = _refused(
        _post(
            client,
            Assertion(
                email="nobody@corp.example", in_response_to=_start(client), groups=["everyone"]
            ),
        ),
        client,
    )
    assert "not in a group that may use" in page
    assert not User.objects.filter(email="nobody@corp.example").exists()
    assert not SocialAccount.objects.exists()


def test_an_advocates_address_is_refused_and_the_advocate_is_untouched(client, advocate):
    page = _refused(
        _post(
            client,
            Assertion(
                email=advocate.user.email.upper(),
                in_response_to=_start(client),
                groups=[MANAGERS],
                authn_context=MFA_CONTEXT,
            ),
        ),
        client,
    )
    assert "belongs to a member of the" in page
    assert not advocate.user.groups.exists()
    assert not SocialAccount.objects.exists()


def test_a_wrong_audience_is_refused(client):
    factories.ManagerFactory(email="maya@corp.example")
    response = _post(
        client,
        Assertion(
            email="maya@corp.example",
            in_response_to=_start(client),
            groups=[MANAGERS],
            audience="https://another-app.example.com/saml/metadata",
        ),
    )
    assert "Nobody was signed in" in _refused(response, client)


def test_an_expired_assertion_is_refused(client, monkeypatch):
    factories.ManagerFactory(email="maya@corp.example")
    request_id = _start(client)
    issued = datetime.now(tz=UTC).replace(microsecond=0)
    assertion = Assertion(
        email="maya@corp.example", in_response_to=request_id, groups=[MANAGERS], issued=issued
    )
    # Posted an hour later: past NotOnOrAfter (5 minutes) and the 5-minute clock drift.
    later = int((issued + timedelta(hours=1)).timestamp())
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: later))
    assert "Nobody was signed in" in _refused(_post(client, assertion), client)


def test_an_unsigned_assertion_is_refused(client):
    factories.ManagerFactory(email="maya@corp.example")
    response = _post(
        client,
        Assertion(
            email="maya@corp.example",
            in_response_to=_start(client),
            groups=[MANAGERS],
            authn_context=MFA_CONTEXT,
            signed=False,
        ),
    )
    assert "Nobody was signed in" in _refused(response, client)


def test_an_assertion_signed_by_another_key_is_refused(client):
    factories.ManagerFactory(email="maya@corp.example")
    response = _post(
        client,
        Assertion(
            email="maya@corp.example",
            in_response_to=_start(client),
            groups=[MANAGERS],
            keys=idp_keys("Impostor"),
        ),
    )
    assert "Nobody was signed in" in _refused(response, client)


def test_a_replayed_assertion_is_refused(client):
    factories.ManagerFactory(email="maya@corp.example")
    first = _browser()
    assertion = Assertion(
        email="maya@corp.example",
        in_response_to=_start(first),
        groups=[MANAGERS],
        authn_context=MFA_CONTEXT,
    )
    _post(first, assertion)
    assert _signed_in(first)
    # The same response again, from a browser that started its own sign-in (so the
    # InResponseTo check alone would not stop it: the assertion's ID does).
    second = _browser()
    replay = Assertion(**{**assertion.__dict__, "in_response_to": _start(second)})
    page = _refused(_post(second, replay), second)
    assert sso.REPLAYED in page


def test_idp_mfa_is_ignored_when_not_trusted(client, settings):
    settings.VOUCH_SSO_TRUST_IDP_MFA = False
    factories.ManagerFactory(email="maya@corp.example")
    response = _post(
        client,
        Assertion(
            email="maya@corp.example",
            in_response_to=_start(client),
            groups=[MANAGERS],
            authn_context=MFA_CONTEXT,
        ),
    )
    assert response.url == reverse("mfa_authenticate")
    assert not _signed_in(client)


def test_a_password_sign_in_still_asks_for_the_totp(client):
    """The IdP's MFA counts for that sign-in only, not for later password ones."""
    manager = factories.ManagerFactory(email="maya@corp.example")
    sso_browser = _browser()
    _post(
        sso_browser,
        Assertion(
            email="maya@corp.example",
            in_response_to=_start(sso_browser),
            groups=[MANAGERS],
            authn_context=MFA_CONTEXT,
        ),
    )
    response = client.post(
        reverse("account_login"), {"login": manager.email, "password": factories.PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")


def test_the_same_response_posted_again_is_refused(client):
    factories.ManagerFactory(email="maya@corp.example")
    assertion = Assertion(
        email="maya@corp.example",
        in_response_to=_start(client),
        groups=[MANAGERS],
        authn_context=MFA_CONTEXT,
    )
    body = {"SAMLResponse": assertion.response()}
    client.post(ACS, body, follow=True)
    assert _signed_in(client)
    for browser in (client, _browser()):  # the same browser, or whoever captured it
        browser.logout()
        response = browser.post(ACS, body, follow=True)
        assert not _signed_in(browser)
        assert "Nobody was signed in" in response.content.decode() or sso.REPLAYED in (
            response.content.decode()
        )


def test_a_new_sso_manager_without_a_password_can_still_set_up_the_authenticator(client):
    """No password to re-enter before adding an authenticator: allauth sends a code to the
    address the IdP vouched for instead."""
    _post(
        client,
        Assertion(email="new@corp.example", in_response_to=_start(client), groups=[MANAGERS]),
    )
    page = client.get(reverse("mfa_activate_totp"), follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("account_request_reauthentication_code"))
    sent = client.post(
        reverse("account_request_reauthentication_code"),
        {"recipient": "new@corp.example", "next": reverse("mfa_activate_totp")},
        follow=True,
    )
    assert sent.status_code == 200
    (message,) = mail.outbox
    assert message.to == ["new@corp.example"]
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.MULTILINE).group(1)
    confirmed = client.post(
        reverse("account_confirm_reauthentication_code"),
        {"code": code, "next": reverse("mfa_activate_totp")},
        follow=True,
    )
    assert confirmed.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert 'src="data:image/svg+xml;base64,' in confirmed.content.decode()  # the QR code


def test_the_idp_may_be_set_up_in_the_admin_instead(client, settings):
    """A SAML social application with client id "company" (Django admin → Social
    applications) does what the VOUCH_SSO_SAML_IDP_* variables do."""
    from allauth.socialaccount.models import SocialApp

    configured = settings.SOCIALACCOUNT_PROVIDERS["saml"]["APPS"][0]
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers["saml"]["APPS"] = []
    settings.SOCIALACCOUNT_PROVIDERS = providers
    settings.VOUCH_SSO_SAML_IDP_ENTITY_ID = ""
    assert "company account" not in client.get(reverse("account_login")).content.decode()

    SocialApp.objects.create(
        provider="saml",
        name="Corp",
        client_id="company",
        settings=configured["settings"],
    )
    assert "company account" in client.get(reverse("account_login")).content.decode()
    factories.RepFactory(email="pat@corp.example")
    _post(
        client,
        Assertion(email="pat@corp.example", in_response_to=_start(client), groups=[REPS]),
    )
    assert _signed_in(client)
