"""Journey in Chromium: a gift card fulfilled through Tremendous (recorded exchanges).
The manager approves it, Tremendous refuses for want of funds and it lands back in the
queue with the reason; after a top-up the manager orders it again; the advocate sees it
on its way, then delivered once Tremendous's signed webhook arrives. Desktop width."""

from __future__ import annotations

import urllib.request
import uuid
from decimal import Decimal

import pytest
import responses

from rewards.models import Reward
from rewards.services.catalog import reward_redeem
from tests import factories
from tests.browser.conftest import require_browser
from tests.rewards.factories import RewardFactory, give_points
from tests.rewards.test_tremendous import (
    BASE,
    RECORDED_RECIPIENT,
    SECRET,
    cassette,
    recorded,
    sign,
)

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_gift_card_through_tremendous(browser, journey, settings) -> None:
    settings.TREMENDOUS_API_KEY = "TEST_not_a_real_key"
    settings.TREMENDOUS_ENVIRONMENT = "sandbox"
    settings.TREMENDOUS_FUNDING_SOURCE = "balance"
    settings.TREMENDOUS_WEBHOOK_SECRET = SECRET
    manager = factories.ManagerFactory(email="maya.manager@example.com", first_name="Maya")
    advocate = factories.AdvocateFactory(user__email=RECORDED_RECIPIENT, user__first_name="Jo")
    reward = RewardFactory(
        name="Coffee gift card",
        kind=Reward.Kind.GIFT_CARD,
        points_cost=100,
        fulfilment_provider="tremendous",
        provider_denomination=Decimal("0.36"),
        provider_products="Q24BD9EZ332JT",
    )
    give_points(advocate, 100)
    redemption = reward_redeem(
        reward_id=reward.pk, advocate_id=advocate.pk, idempotency_key=uuid.uuid4().hex
    ).redemption
    j = journey("tremendous", "desktop")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        api.add_passthru(j.base_url)
        api.post(
            f"{BASE}/orders",
            body=recorded("error_402_insufficient_funds.json"),
            status=402,
            content_type="application/json",
        )
        console = j.new_page(browser)
        sign_in(console, manager.email, factories.PASSWORD)
        console.get_by_label("Code").fill(factories.totp_code())
        console.get_by_role("button", name="Sign in").click()
        console.goto("/console/fulfilment/")
        row = console.locator(f"#redemption-{redemption.pk}")
        row.get_by_role("button", name="Approve").click()
        expect(row).to_contain_text("Not enough funds in the Tremendous account")
        j.step(console, "insufficient funds: back in the queue with the reason")

        # Topped up: Tremendous takes the order now (it never saw the first one).
        api.replace(responses.POST, f"{BASE}/orders", body=cassette("orders_create_200.yml")[1])
        api.get(f"{BASE}/orders/vouch-redemption-{redemption.pk}", status=404, json={})
        row.get_by_role("button", name="Order again through Tremendous").click()
        expect(row).to_contain_text("Ordered, being delivered")
        expect(row.get_by_role("button", name="Cancel & refund")).to_have_count(0)
        j.step(console, "ordered through Tremendous")

    member = j.new_page(browser)
    sign_in(member, RECORDED_RECIPIENT, factories.PASSWORD)
    member.goto(f"/rewards/redemptions/{redemption.pk}/")
    expect(member.get_by_role("heading", name="On its way")).to_be_visible()
    j.step(member, "the advocate sees it on its way")

    body = recorded("webhook_rewards_delivery_succeeded.json").encode()
    webhook = urllib.request.Request(  # noqa: S310 (our live server)
        f"{j.base_url}/webhooks/tremendous/",
        data=body,
        headers={"Content-Type": "application/json", "Tremendous-Webhook-Signature": sign(body)},
        method="POST",
    )
    with urllib.request.urlopen(webhook, timeout=10) as answer:  # noqa: S310 (our live server)
        assert answer.status == 200
    member.reload()
    expect(member.get_by_role("heading", name="Delivered")).to_be_visible()
    j.step(member, "delivered by Tremendous")
