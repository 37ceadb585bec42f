"""Journey (c) in Chromium: an advocate shares their link, a visitor with no cookies
leaves their details on the landing page, the rep qualifies the lead, the CRM reports
the deal won (a signed event), and the advocate sees the stage and their reward. At a
desktop width and at 375 px."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from advocates.models import Advocate
from referrals.models import Referral, RewardRule, Stage
from referrals.webhooks import HEADER, sign
from tests import factories
from tests.browser.conftest import nav_link, require_browser

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "browser-journey-crm-secret"
VISITOR = "lena.berg@northwind.example"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_share_visit_qualify_won_by_crm_reward(browser, journey, settings, width: str) -> None:
    settings.CRM_INBOUND_SECRET = SECRET
    RewardRule.objects.create(
        name="2% of the deal, up to 1,000 points",
        kind=RewardRule.Kind.PERCENT,
        percent=Decimal(2),
        cap_points=1000,
        qualified_points=50,
    )
    rep = factories.RepFactory(email="ravi.rep@example.com", first_name="Ravi", last_name="Rao")
    sam = factories.AdvocateFactory(
        user__email="sam.sharer@example.com",
        user__first_name="Sam",
        user__last_name="Sharer",
        owner_rep=rep,
    )
    j = journey("referral", width)
    phone = {"no_sideways_scroll": True}

    # Sam signs in and copies their personal link.
    advocate_page = j.new_page(browser)
    sign_in(advocate_page, sam.user.email, factories.PASSWORD)
    nav_link(advocate_page, "Referrals").click()
    expect(advocate_page.get_by_role("heading", name="My referrals")).to_be_visible()
    j.step(advocate_page, "my referrals, empty", **phone)
    advocate_page.get_by_role("navigation", name="Ways to refer").get_by_role(
        "link", name="Link & social"
    ).click()
    link = advocate_page.get_by_role("textbox", name="Your personal link").input_value()
    j.step(advocate_page, "share the link", **phone)

    # A visitor with no cookies opens it and leaves their details.
    visitor = j.new_page(browser)
    visitor.goto(urlsplit(link).path)
    expect(
        visitor.get_by_role("heading", name="Sam Sharer thinks you should talk to us")
    ).to_be_visible()
    j.step(visitor, "landing page", **phone)
    visitor.get_by_label("Your name").fill("Lena Berg")
    visitor.get_by_label("Work email").fill(VISITOR)
    visitor.get_by_label("Company").fill("Northwind")
    visitor.get_by_label("Your title").fill("COO")
    visitor.get_by_label("What are you looking for?").fill("A calmer onboarding for 40 sites.")
    visitor.get_by_role("button", name="Get in touch").click()
    expect(visitor.get_by_role("heading", name="Thank you!")).to_be_visible()
    j.step(visitor, "visitor thanked", **phone)
    referral = Referral.objects.get(referred_email=VISITOR)
    assert referral.advocate_id == sam.pk
    assert referral.owner_rep_id == rep.pk

    # Ravi, Sam's rep, qualifies the lead.
    console = j.new_page(browser)
    sign_in(console, rep.email, factories.PASSWORD)
    nav_link(console, "Referrals").click()
    j.step(console, "rep pipeline")
    console.get_by_role("link", name="Lena Berg").click()
    expect(console.get_by_role("heading", name="Move the referral")).to_be_visible()
    j.step(console, "referral detail")
    console.get_by_label("Stage").select_option("qualified")
    console.get_by_role("button", name="Save stage").click()
    expect(console.locator(".messages")).to_contain_text("Lena Berg: qualified")
    j.step(console, "qualified")

    # The CRM reports the deal won, signed with the shared secret.
    def crm_won(amount: str) -> None:
        body = json.dumps(
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "referral.stage_changed",
                "referral": str(referral.pk),
                "stage": "won",
                "amount": amount,
            }
        ).encode()
        response = visitor.context.request.post(
            "/api/crm/events",
            data=body,
            headers={"Content-Type": "application/json", HEADER: sign(body, secret=SECRET)},
        )
        assert response.ok, response.text()
        assert response.json()["stage"] == "won"

    crm_won("30000.00")

    # Sam sees the stage and the reward: 50 for qualified, 2% of 30,000 for won.
    advocate_page.goto("/referrals/")
    row = advocate_page.get_by_role("row", name="Lena Berg")
    expect(row).to_contain_text("Won")
    expect(row).to_contain_text("+600")
    expect(row).to_contain_text("+50")
    j.step(advocate_page, "advocate sees won and reward", **phone)
    assert Referral.objects.get(pk=referral.pk).stage == Stage.WON
    assert Advocate.objects.get(pk=sam.pk).balance == 650

    # The CRM corrects the amount: the 600 is taken back and 2% of 40,000 paid instead,
    # both entries in Sam's recent points.
    crm_won("40000.00")
    advocate_page.goto("/referrals/")
    row = advocate_page.get_by_role("row", name="Lena Berg")
    expect(row).to_contain_text("reversed")
    expect(row).to_contain_text("+800")
    advocate_page.goto("/hub/")
    recent = advocate_page.get_by_role("region", name="Recent points")
    expect(recent).to_contain_text(
        "Deal amount changed from 30,000 to 40,000: reward for Lena Berg corrected"
    )
    expect(recent).to_contain_text(
        "Referral won: Lena Berg, on the corrected deal amount of 40,000"
    )
    j.step(advocate_page, "advocate sees the corrected reward", **phone)
    assert Advocate.objects.get(pk=sam.pk).balance == 850
