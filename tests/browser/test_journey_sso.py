"""Journey in Chromium: a community manager presses "Sign in with your company account",
the company's IdP (here a page the test serves in its place, posting an assertion signed
by the test IdP's key, with MFA) sends them back, and they land in the console without
a TOTP prompt."""

from __future__ import annotations

import copy
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from tests import factories
from tests.advocates.saml_idp import IDP_SSO_URL, MFA_CONTEXT, Assertion, configure
from tests.browser.conftest import require_browser

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_signs_in_with_the_company_idp_and_lands_in_the_console(
    browser, journey, settings
) -> None:
    # The live server answers on "localhost", a name python3-saml refuses in URLs unless told.
    configure(
        settings,
        manager_groups=["vouch-managers"],
        rep_groups=["vouch-reps"],
        allow_single_label_domains=True,
    )
    # As VOUCH_SSO_SAML_IDP_SSO_URL adds it: the redirect to the IdP follows a form POST.
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"] = [
        *csp["DIRECTIVES"]["form-action"],
        "https://idp.example.com",
    ]
    settings.CONTENT_SECURITY_POLICY = csp
    manager = factories.ManagerFactory(
        email="maya.manager@corp.example", first_name="Maya", last_name="Manager"
    )  # she has a TOTP too: the IdP's MFA must spare it
    j = journey("sso", "desktop")
    page = j.new_page(browser)
    base = j.base_url

    def identity_provider(route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        request = OneLogin_Saml2_Utils.decode_base64_and_inflate(query["SAMLRequest"][0])
        request_id = re.search(r' ID="([^"]+)"', request.decode()).group(1)
        assertion = Assertion(
            email=manager.email,
            first_name="Maya",
            last_name="Manager",
            in_response_to=request_id,
            groups=["vouch-managers"],
            authn_context=MFA_CONTEXT,
            acs_url=f"{base}/accounts/saml/company/acs/",
            audience=f"{base}/accounts/saml/company/metadata/",
        )
        body = (
            '<!doctype html><html lang="en"><title>Corp IdP</title><main><h1>Corp IdP</h1>'
            f'<form method="post" action="{base}/accounts/saml/company/acs/">'
            f'<input type="hidden" name="SAMLResponse" value="{html.escape(assertion.response())}">'
            "<button>Continue to Vouch</button></form></main></html>"
        )
        route.fulfill(status=200, content_type="text/html", body=body)

    page.route(f"{IDP_SSO_URL}**", identity_provider)

    page.goto("/accounts/login/")
    button = page.get_by_role("button", name="Sign in with your company account")
    expect(button).to_be_visible()
    j.step(page, "sign-in page offers the company account")
    button.click()
    expect(page.get_by_role("heading", name="Corp IdP")).to_be_visible()
    page.get_by_role("button", name="Continue to Vouch").click()
    page.wait_for_url(re.compile(r"/console/"))
    expect(page.get_by_role("link", name="Console", exact=True)).to_be_visible()
    assert "/accounts/2fa/" not in page.url
    j.step(page, "console after single sign-on")
