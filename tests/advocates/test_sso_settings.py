"""Staff SSO is configured from the environment (config/settings/, README)."""

from __future__ import annotations

import json

from tests.settings_process import settings_process

DUMP = (
    "import json; from django.conf import settings; "
    "p = settings.SOCIALACCOUNT_PROVIDERS; "
    "print(json.dumps({'saml': p['saml']['APPS'], 'oidc': p['openid_connect']['APPS']}))"
)
SAML = {
    "VOUCH_SSO_SAML_IDP_ENTITY_ID": "http://www.okta.com/exk1",
    "VOUCH_SSO_SAML_IDP_SSO_URL": "https://corp.okta.com/app/vouch/exk1/sso/saml",
    "VOUCH_SSO_SAML_IDP_X509_CERT": "MIIC...",
    "VOUCH_SSO_MANAGER_GROUPS": "Vouch Managers",
    "VOUCH_SSO_REP_GROUPS": "Sales,Vouch Reps",
}


def _apps(**env: str) -> dict:
    result = settings_process(DUMP, DEBUG="true", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_variables_there_is_no_sso() -> None:
    assert _apps() == {"saml": [], "oidc": []}


def test_saml_variables_make_the_company_app() -> None:
    (app,) = _apps(**SAML)["saml"]
    assert app["client_id"] == "company"
    assert app["settings"]["idp"] == {
        "entity_id": "http://www.okta.com/exk1",
        "sso_url": "https://corp.okta.com/app/vouch/exk1/sso/saml",
        "x509cert": "MIIC...",
    }
    assert app["settings"]["advanced"]["want_assertion_signed"] is True
    assert app["settings"]["advanced"]["reject_idp_initiated_sso"] is True


def test_oidc_variables_make_the_company_app() -> None:
    (app,) = _apps(
        VOUCH_SSO_OIDC_SERVER_URL="https://corp.okta.com/oauth2/default",
        VOUCH_SSO_OIDC_CLIENT_ID="0oa1",
        VOUCH_SSO_OIDC_CLIENT_SECRET="s",
        VOUCH_SSO_OIDC_SCOPES="openid,email,profile,groups",
        VOUCH_SSO_REP_GROUPS="Sales",
    )["oidc"]
    assert (app["provider_id"], app["client_id"]) == ("company", "0oa1")
    assert app["settings"]["scope"] == ["openid", "email", "profile", "groups"]


def test_sso_without_a_group_mapping_refuses_to_start() -> None:
    env = {k: v for k, v in SAML.items() if not k.endswith("_GROUPS")}
    result = settings_process(DUMP, DEBUG="true", **env)
    assert result.returncode != 0
    assert "VOUCH_SSO_MANAGER_GROUPS" in result.stderr


def test_saml_without_a_certificate_or_metadata_refuses_to_start() -> None:
    env = {k: v for k, v in SAML.items() if k != "VOUCH_SSO_SAML_IDP_X509_CERT"}
    result = settings_process(DUMP, DEBUG="true", **env)
    assert result.returncode != 0
    assert "VOUCH_SSO_SAML_IDP_X509_CERT" in result.stderr


def test_the_idp_origin_may_receive_the_sign_in_form() -> None:
    """Chrome checks CSP form-action on the redirect that follows the button's POST."""
    code = (
        "from django.conf import settings; "
        "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
    )
    result = settings_process(code, DEBUG="true", **SAML)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["'self'", "https://corp.okta.com"]
