"""Journey (b) in Chromium: a rep requests a reference call, the prospect picks a
customer from their emailed link (no account), the advocate accepts, both get the
introduction, and the rep marks the call done. At a desktop width and at 375 px."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from advocates.models import Advocate
from references.models import ReferenceRequest
from references.services import call_points
from tests import factories
from tests.browser.conftest import nav_link, require_browser

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROSPECT = "percy.prospect@acme-clinics.example"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def link_in(message, pattern: str) -> str:
    found = re.search(rf"https?://[^\s\"<>]+{pattern}[^\s\"<>]*", message.body)
    assert found, message.body
    return urlsplit(found.group(0)).path


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_request_pick_accept_introduce_call_done(browser, journey, width: str) -> None:
    rep = factories.RepFactory(email="ravi.rep@example.com", first_name="Ravi", last_name="Rao")
    hana = factories.AdvocateFactory(
        user__email="hana.ito@example.com",
        user__first_name="Hana",
        user__last_name="Ito",
        title="Head of Clinical Operations",
        industry="Healthcare",
        reference_opt_in=True,
    )
    j = journey("reference", width)
    phone = {"no_sideways_scroll": True}

    # The rep signs in and requests a reference call for their prospect.
    console = j.new_page(browser)
    sign_in(console, rep.email, factories.PASSWORD)
    nav_link(console, "Reference requests").click()
    expect(console.get_by_role("heading", name="Reference requests")).to_be_visible()
    j.step(console, "rep requests")
    console.get_by_role("link", name="New request").click()
    console.get_by_label("Prospect's name").fill("Percy Prospect")
    console.get_by_label("Prospect's email").fill(PROSPECT)
    console.get_by_label("Their title").fill("CIO")
    console.get_by_role("textbox", name=re.compile("^Company")).fill("Acme Clinics")
    console.get_by_label("Industry").fill("Healthcare")
    console.get_by_label("Opportunity").fill("Acme rollout")
    console.get_by_label("Amount").fill("84000")
    console.get_by_label("Needed by").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    j.step(console, "new request form")
    console.get_by_role("button", name="Find advocates").click()
    expect(console.get_by_role("heading", name="Best matches")).to_be_visible()
    expect(console.locator(".match", has_text="Hana Ito")).to_be_visible()
    j.step(console, "ranked matches")

    # The rep lets the prospect choose; the prospect gets a private link by email.
    console.get_by_role("button", name=re.compile("^Let Percy choose")).click()
    waiting = console.get_by_role("heading", name="Waiting for Percy Prospect to choose")
    expect(waiting).to_be_visible()
    j.step(console, "waiting for the prospect")
    [to_prospect] = [m for m in mail.outbox if PROSPECT in m.to]
    prospect = j.new_page(browser)
    prospect.goto(link_in(to_prospect, "/reference/"))
    choose = prospect.get_by_role("heading", name=re.compile("who would you like to talk to"))
    expect(choose).to_be_visible()
    j.step(prospect, "prospect picks", **phone)
    prospect.get_by_role("button", name="Talk to Hana").click()
    expect(prospect.get_by_role("heading", name=re.compile("we asked Hana Ito"))).to_be_visible()
    j.step(prospect, "prospect thanked", **phone)

    # Hana is asked by email, signs in and accepts.
    assert any(hana.user.email in m.to for m in mail.outbox)
    advocate_page = j.new_page(browser)
    sign_in(advocate_page, hana.user.email, factories.PASSWORD)
    nav_link(advocate_page, "References").click()
    ask = advocate_page.locator(".ask-card", has_text="Percy Prospect")
    expect(ask).to_contain_text("Acme Clinics")
    j.step(advocate_page, "advocate is asked", **phone)
    outbox_before = len(mail.outbox)
    ask.get_by_role("button", name="Accept").click()
    expect(advocate_page.locator(".ask-card", has_text="Percy Prospect")).to_contain_text(
        "introduction email is on its way"
    )
    j.step(advocate_page, "advocate accepted", **phone)

    # Both are introduced by email.
    introductions = mail.outbox[outbox_before:]
    assert any(PROSPECT in m.to for m in introductions), [m.to for m in introductions]
    assert any(hana.user.email in m.to for m in introductions), [m.to for m in introductions]

    # The call happens; the rep marks it done and Hana gets her points.
    console.reload()
    expect(console.get_by_role("heading", name="Hana Ito agreed to the call")).to_be_visible()
    j.step(console, "call agreed")
    console.get_by_role("button", name="Call done").click()
    expect(console.locator(".messages")).to_contain_text("Call marked done")
    j.step(console, "call done")
    assert ReferenceRequest.objects.get().status == ReferenceRequest.Status.COMPLETED

    advocate_page.goto("/hub/")
    points = f"{call_points():,}"
    expect(advocate_page.get_by_role("region", name="Points to spend")).to_contain_text(points)
    j.step(advocate_page, "advocate sees the points", **phone)
    assert Advocate.objects.get(pk=hana.pk).balance == call_points()
