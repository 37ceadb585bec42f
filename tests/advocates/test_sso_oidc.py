"""Staff single sign-on through OpenID Connect: Okta's recorded discovery document, token
response and JWKS (fixtures/oidc/README.md) replayed with ``responses``; the ID token is
signed by a key pair generated for the run."""

from __future__ import annotations

import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache as django_cache
from django.test import Client
from django.urls import reverse

from advocates.models import User
from core.mfa import SESSION_KEY
from core.roles import MANAGERS_GROUP, REPS_GROUP
from tests import factories

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "oidc"
DISCOVERY = json.loads((FIXTURES / "okta_openid_configuration.json").read_text())
ISSUER = DISCOVERY["issuer"]
SERVER_URL = ISSUER  # allauth appends /.well-known/openid-configuration
CLIENT_ID = "0oa1vouchstaff"
MANAGERS = "vouch-managers"
REPS = "vouch-reps"
LOGIN = reverse("openid_connect_login", kwargs={"provider_id": "company"}) + "?process=login"
KID = "vouch-test-key"


@cache
def _key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> dict:
    recorded = json.loads((FIXTURES / "okta_keys.json").read_text())
    key = recorded["keys"][0]
    ours = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_key("idp").public_key()))
    key.update(n=ours["n"], e=ours["e"], kid=KID)
    return recorded


def id_token(*, signer: str = "idp", **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "00u15ozp26ACQTGHJEBH",
        "iat": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        "email": "maya@corp.example",
        "given_name": "Maya",
        "family_name": "Manager",
        "groups": [MANAGERS],
        "amr": ["pwd"],
    } | claims
    return jwt.encode(payload, _key(signer), algorithm="RS256", headers={"kid": KID})


@pytest.fixture(autouse=True)
def oidc(settings):
    settings.VOUCH_SSO_OIDC_SERVER_URL = SERVER_URL
    settings.VOUCH_SSO_MANAGER_GROUPS = [MANAGERS]
    settings.VOUCH_SSO_REP_GROUPS = [REPS]
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers["openid_connect"]["APPS"] = [
        {
            "provider_id": "company",
            "name": "your company account",
            "client_id": CLIENT_ID,
            "secret": "staff-secret",
            "settings": {
                "server_url": SERVER_URL,
                "fetch_userinfo": False,
                "scope": ["openid", "email", "profile", "groups"],
            },
        }
    ]
    settings.SOCIALACCOUNT_PROVIDERS = providers
    django_cache.clear()


def _sign_in(client: Client, token: str):
    """The browser's round trip: our login, the IdP (skipped), back to the callback with a
    code; allauth then calls the recorded discovery, token and keys endpoints."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as idp:
        idp.get(f"{ISSUER}/.well-known/openid-configuration", json=DISCOVERY)
        token_response = json.loads((FIXTURES / "okta_token_response.json").read_text())
        token_response.update(id_token=token, access_token=uuid.uuid4().hex)
        idp.post(DISCOVERY["token_endpoint"], json=token_response)
        idp.get(DISCOVERY["jwks_uri"], json=_jwks())
        start = client.post(LOGIN)
        assert start.status_code == 302
        assert start.url.startswith(DISCOVERY["authorization_endpoint"])
        state = parse_qs(urlparse(start.url).query)["state"][0]
        return client.get(reverse("sso_oidc_callback"), {"code": "recorded-code", "state": state})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_sign_in_page_offers_the_company_account(client):
    assert (
        "Sign in with your company account" in client.get(reverse("account_login")).content.decode()
    )


def test_amr_with_mfa_lands_a_manager_in_the_console_without_a_totp_prompt(client):
    manager = factories.ManagerFactory(email="maya@corp.example")  # has a TOTP too
    response = _sign_in(client, id_token(amr=["pwd", "mfa"]))
    assert _signed_in(client)
    assert response.url != reverse("mfa_authenticate")
    assert client.session[SESSION_KEY] == manager.pk
    console = client.get(response.url, follow=True)
    assert console.redirect_chain[-1][0] == reverse("console:home")


def test_without_mfa_in_amr_the_totp_is_asked(client):
    factories.ManagerFactory(email="maya@corp.example")
    response = _sign_in(client, id_token(amr=["pwd"]))
    assert response.url == reverse("mfa_authenticate")
    assert not _signed_in(client)


def test_a_new_rep_is_created_from_the_id_token(client):
    _sign_in(
        client,
        id_token(email="rita@corp.example", given_name="Rita", groups=[REPS], amr=["otp"]),
    )
    user = User.objects.get(email="rita@corp.example")
    assert user.first_name == "Rita"
    assert list(user.groups.values_list("name", flat=True)) == [REPS_GROUP]
    assert _signed_in(client)


def test_groups_are_removed_when_the_idp_no_longer_sends_them(client):
    person = factories.ManagerFactory(email="maya@corp.example")
    _sign_in(client, id_token(groups=[REPS], amr=["mfa"]))
    assert set(person.groups.values_list("name", flat=True)) == {REPS_GROUP}
    assert MANAGERS_GROUP not in set(person.groups.values_list("name", flat=True))


def test_an_advocates_address_is_refused(client, advocate):
    response = _sign_in(client, id_token(email=advocate.user.email, amr=["mfa"]))
    assert response.status_code == 403
    assert "belongs to a member of the" in response.content.decode()
    assert not _signed_in(client)
    assert not advocate.user.groups.exists()


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "another-client"}, id="wrong audience"),
        pytest.param(
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"
        ),
        pytest.param({"iss": "https://evil.example.com"}, id="wrong issuer"),
    ],
)
def test_a_bad_id_token_is_refused(client, claims):
    factories.ManagerFactory(email="maya@corp.example")
    response = _sign_in(client, id_token(amr=["mfa"], **claims))
    assert not _signed_in(client)
    assert "Nobody was signed in" in response.content.decode()


def test_an_id_token_signed_by_another_key_is_refused(client):
    factories.ManagerFactory(email="maya@corp.example")
    response = _sign_in(client, id_token(signer="impostor", amr=["mfa"]))
    assert not _signed_in(client)
    assert "Nobody was signed in" in response.content.decode()


def test_no_staff_group_is_refused_and_creates_nobody(client):
    response = _sign_in(client, id_token(email="x@corp.example", groups=["everyone"]))
    assert response.status_code == 403
    assert not User.objects.filter(email="x@corp.example").exists()
