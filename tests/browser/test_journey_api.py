"""Journey in Chromium: a manager creates an API key, copies it from the page (shown
once), a system reads the program with it, the manager revokes it and the next request
is refused; the API's docs page renders under the site's CSP (Swagger UI from our own
static files, nothing blocked)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import require_browser

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_use_revoke_a_key_and_read_the_docs(browser, journey) -> None:
    manager = factories.ManagerFactory(email="maya.manager@example.com", first_name="Maya")
    factories.AdvocateFactory(user__email="ada@example.com", user__first_name="Ada")
    j = journey("api", "desktop")

    console = j.new_page(browser)
    console.goto("/accounts/login/")
    console.get_by_label("Email").fill(manager.email)
    console.get_by_label("Password").fill(factories.PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    console.get_by_label("Code").fill(factories.totp_code())
    console.get_by_role("button", name="Sign in").click()

    console.goto("/console/api-keys/")
    expect(console.get_by_role("heading", name="API keys")).to_be_visible()
    console.get_by_role("textbox", name="Name").fill("CRM sync")
    console.get_by_role("checkbox", name="advocates:read").check()
    console.get_by_role("button", name="Create key").click()
    expect(console.get_by_role("heading", name="API key created")).to_be_visible()
    j.step(console, "key shown once")
    token = console.locator("#api-key").inner_text().strip()
    assert token.startswith("vch_")

    api = console.request  # a client outside the page: no cookie counts, only the key
    response = api.get("/api/v1/advocates", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert [row["email"] for row in response.json()["results"]] == ["ada@example.com"]
    forbidden = api.get("/api/v1/ledger", headers={"Authorization": f"Bearer {token}"})
    assert forbidden.status == 403

    console.get_by_role("link", name="Back to API keys").click()
    expect(console.get_by_text(token)).to_have_count(0)  # the list never shows the key
    j.step(console, "keys list")
    console.get_by_role("button", name="Revoke").click()
    expect(console.get_by_text("revoked: it stops working now")).to_be_visible()
    j.step(console, "key revoked")
    refused = api.get("/api/v1/advocates", headers={"Authorization": f"Bearer {token}"})
    assert refused.status == 401
    assert refused.json()["detail"] == "This API key was revoked."

    # The docs page: Swagger UI draws every operation; the CSP blocked nothing. Not a
    # journey step: axe-core audits our pages, and this one is Swagger UI's markup.
    docs = j.new_page(browser)
    docs.goto("/api/v1/docs")
    expect(docs.locator(".swagger-ui .info .title")).to_contain_text("Vouch API")
    expect(docs.get_by_text("/api/v1/reference-requests/{id}", exact=True)).to_be_visible()
    docs.screenshot(path=str(j.folder / "04-docs.png"), full_page=False)
    assert not j.csp_violations, j.csp_violations
    assert not j.page_errors, j.page_errors
