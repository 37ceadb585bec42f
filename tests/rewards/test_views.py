"""The advocate's pages: catalog, confirmation step, my redemptions, the hub card."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rewards.models import LedgerEntry, Redemption, Reward
from rewards.services import catalog
from tests.factories import AdvocateFactory
from tests.rewards.factories import RewardFactory, give_points, redeem


def count_queries(client, url: str, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(queries)


def names_in_order(body: str, names: list[str]) -> list[str]:
    return sorted(names, key=body.index)


# --- Catalog --------------------------------------------------------------------------


def test_catalog_puts_what_i_can_redeem_first_and_marks_the_rest(advocate, advocate_client) -> None:
    give_points(advocate, 300)
    RewardFactory(name="Big trip", points_cost=5000)
    RewardFactory(name="Sold-out socks", points_cost=10, stock=0)
    RewardFactory(name="Sticker pack", points_cost=200)
    RewardFactory(name="Hidden hat", points_cost=10, is_active=False)
    RewardFactory(name="Future mug", points_cost=10, starts_at=timezone.now() + timedelta(days=2))
    RewardFactory(name="Past pen", points_cost=10, ends_at=timezone.now() - timedelta(days=1))
    limited = RewardFactory(
        name="Monthly tote", points_cost=10, limit_count=1, limit_period="month"
    )
    redeem(advocate, limited)

    body = advocate_client.get(reverse("rewards:catalog")).content.decode()

    assert "Hidden hat" not in body
    assert "Future mug" not in body
    assert "Past pen" not in body
    assert names_in_order(body, ["Big trip", "Sold-out socks", "Sticker pack", "Monthly tote"]) == [
        "Sticker pack",
        "Big trip",
        "Monthly tote",
        "Sold-out socks",
    ]
    assert "You can redeem this" in body
    assert "4,700 to go" in body
    assert "Out of stock" in body
    assert "Limit reached" in body
    # Only the reward I can redeem has a Redeem link.
    assert body.count('aria-label="Redeem ') == 1


def test_catalog_filters_by_kind_with_htmx(advocate_client, htmx_headers) -> None:
    RewardFactory(name="Gift card A", kind=Reward.Kind.GIFT_CARD)
    RewardFactory(name="Hoodie B", kind=Reward.Kind.SWAG)
    response = advocate_client.get(
        reverse("rewards:catalog"), {"kind": "gift_card"}, **htmx_headers
    )
    body = response.content.decode()
    assert "Gift card A" in body
    assert "Hoodie B" not in body
    assert "<html" not in body  # only the results fragment


def test_catalog_query_count_does_not_grow_with_rewards(advocate, advocate_client) -> None:
    give_points(advocate, 1000)
    url = reverse("rewards:catalog")
    for n in range(5):
        RewardFactory(points_cost=100 + n, limit_count=1, limit_period="week")
    few = count_queries(advocate_client, url)
    for n in range(40):
        RewardFactory(points_cost=50 + n * 50, stock=n % 3, limit_count=2, limit_period="month")
    for reward in Reward.objects.order_by("id")[:5]:
        redeem(advocate, reward)
    many = count_queries(advocate_client, url)
    assert few == many
    assert many <= 8


# --- Confirmation step ----------------------------------------------------------------


def test_confirmation_shows_cost_balance_after_and_shipping_form(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(name="Hoodie", points_cost=120, needs_shipping=True, stock=3)
    body = advocate_client.get(reverse("rewards:redeem", args=[reward.pk])).content.decode()
    assert "120 points" in body
    assert "380 points" in body  # balance after
    assert 'name="shipping_address"' in body
    assert re.search(r'name="token" value="[0-9a-f]{32}"', body)
    assert Redemption.objects.count() == 0  # looking changes nothing


def test_confirmation_without_shipping_asks_for_no_address(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(kind=Reward.Kind.GIFT_CARD)
    body = advocate_client.get(reverse("rewards:redeem", args=[reward.pk])).content.decode()
    assert 'name="shipping_address"' not in body
    assert "Redeem for 100 points" in body


def test_confirmation_when_i_cannot_afford_it_has_no_redeem_button(
    advocate, advocate_client
) -> None:
    give_points(advocate, 30)
    reward = RewardFactory(points_cost=100)
    body = advocate_client.get(reverse("rewards:redeem", args=[reward.pk])).content.decode()
    assert "You need 100 points and have 30" in body
    assert "Redeem for" not in body


def test_post_redeems_and_shows_the_redemption(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(name="Hoodie", points_cost=120, needs_shipping=True, stock=3)
    response = advocate_client.post(
        reverse("rewards:redeem", args=[reward.pk]),
        {"token": uuid.uuid4().hex, "shipping_name": "Ada L", "shipping_address": "1 Main St"},
        follow=True,
    )
    redemption = Redemption.objects.get()
    assert response.redirect_chain[-1][0] == reverse("rewards:redemption", args=[redemption.pk])
    assert "Redeemed “Hoodie” for 120 points" in response.content.decode()
    assert redemption.shipping_address == "1 Main St"


def test_a_double_post_of_one_confirmation_redeems_once(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=100, stock=5)
    data = {"token": uuid.uuid4().hex}
    url = reverse("rewards:redeem", args=[reward.pk])
    first = advocate_client.post(url, data)
    second = advocate_client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Redemption.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).count() == 1
    advocate.refresh_from_db()
    assert advocate.balance == 400


def test_shipping_is_required_when_the_reward_ships(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(needs_shipping=True, stock=3)
    response = advocate_client.post(
        reverse("rewards:redeem", args=[reward.pk]), {"token": uuid.uuid4().hex}
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Redemption.objects.count() == 0
    advocate.refresh_from_db()
    assert advocate.balance == 500


def test_a_refused_post_says_why_and_changes_nothing(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(name="Last socks", stock=1)
    page = advocate_client.get(reverse("rewards:redeem", args=[reward.pk])).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    Reward.objects.filter(pk=reward.pk).update(stock=0)  # someone else took the last one
    response = advocate_client.post(reverse("rewards:redeem", args=[reward.pk]), {"token": token})
    assert response.status_code == 409
    assert "“Last socks” is out of stock." in response.content.decode()
    advocate.refresh_from_db()
    assert advocate.balance == 500
    assert Redemption.objects.count() == 0


def test_a_forged_token_is_refused(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory()
    response = advocate_client.post(
        reverse("rewards:redeem", args=[reward.pk]), {"token": "not-a-token"}
    )
    assert "This confirmation has expired" in response.content.decode()
    assert Redemption.objects.count() == 0


# --- Redeeming the same reward again soon ----------------------------------------------


def _redeemed_minutes_ago(advocate, reward, minutes: int) -> Redemption:
    redemption = redeem(advocate, reward)
    Redemption.objects.filter(pk=redemption.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes, seconds=5)
    )
    return redemption


def test_the_first_redemption_takes_one_post_and_no_warning(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=100)
    url = reverse("rewards:redeem", args=[reward.pk])
    page = advocate_client.get(url)
    assert "You redeemed this" not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page.content.decode()).group(1)
    response = advocate_client.post(url, {"token": token})
    assert response.status_code == 302
    assert Redemption.objects.count() == 1


def test_coming_back_to_the_confirmation_says_i_just_redeemed_it(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=100)
    _redeemed_minutes_ago(advocate, reward, 1)
    body = advocate_client.get(reverse("rewards:redeem", args=[reward.pk])).content.decode()
    assert "You redeemed this a minute ago." in body
    assert "Yes, redeem again for 100 points" in body
    assert 'name="again" value="1"' in body


def test_a_fresh_token_without_confirming_the_repeat_redeems_nothing(
    advocate, advocate_client
) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=100)
    _redeemed_minutes_ago(advocate, reward, 3)
    response = advocate_client.post(
        reverse("rewards:redeem", args=[reward.pk]), {"token": uuid.uuid4().hex}
    )
    assert response.status_code == 409
    # naturaltime joins the number and the unit with a no-break space.
    body = response.content.decode().replace("\xa0", " ")
    assert "You redeemed this 3 minutes ago." in body
    assert 'name="again" value="1"' in body
    assert Redemption.objects.count() == 1
    advocate.refresh_from_db()
    assert advocate.balance == 500


def test_confirming_the_repeat_redeems_again(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=100)
    _redeemed_minutes_ago(advocate, reward, 1)
    url = reverse("rewards:redeem", args=[reward.pk])
    warned = advocate_client.post(url, {"token": uuid.uuid4().hex}).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]{32})"', warned).group(1)
    assert 'name="again" value="1"' in warned
    response = advocate_client.post(url, {"token": token, "again": "1"})
    assert response.status_code == 302
    assert Redemption.objects.count() == 2
    advocate.refresh_from_db()
    assert advocate.balance == 400


def test_an_older_or_cancelled_redemption_does_not_ask_again(advocate, advocate_client) -> None:
    give_points(advocate, 500)
    reward = RewardFactory(points_cost=100)
    _redeemed_minutes_ago(advocate, reward, catalog.REPEAT_WARNING_MINUTES)
    catalog.redemption_cancel(redemption_id=redeem(advocate, reward).pk)
    url = reverse("rewards:redeem", args=[reward.pk])
    assert "You redeemed this" not in advocate_client.get(url).content.decode()
    assert advocate_client.post(url, {"token": uuid.uuid4().hex}).status_code == 302


# --- My redemptions and the gift-card code --------------------------------------------


@pytest.fixture
def fulfilled_gift_card(advocate, manager) -> Redemption:
    redemption = redeem(advocate, RewardFactory(name="Coffee card", kind=Reward.Kind.GIFT_CARD))
    catalog.redemption_fulfil(redemption_id=redemption.pk, note="SECRET-CODE-777", by=manager)
    return redemption


def test_my_redemptions_show_status_and_my_gift_card_code(
    advocate_client, fulfilled_gift_card
) -> None:
    body = advocate_client.get(reverse("rewards:my_redemptions")).content.decode()
    assert "Coffee card" in body
    assert "Fulfilled" in body
    assert "SECRET-CODE-777" in body
    detail = advocate_client.get(reverse("rewards:redemption", args=[fulfilled_gift_card.pk]))
    assert "SECRET-CODE-777" in detail.content.decode()


def test_another_advocate_never_sees_the_code(other_advocate_client, fulfilled_gift_card) -> None:
    listing = other_advocate_client.get(reverse("rewards:my_redemptions")).content.decode()
    assert "SECRET-CODE-777" not in listing
    assert "Coffee card" not in listing
    detail = other_advocate_client.get(reverse("rewards:redemption", args=[fulfilled_gift_card.pk]))
    assert detail.status_code == 404
    assert b"SECRET-CODE-777" not in detail.content
    hub = other_advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "SECRET-CODE-777" not in hub


def test_the_code_is_not_shown_before_fulfilment(advocate, advocate_client) -> None:
    redemption = redeem(advocate, RewardFactory(kind=Reward.Kind.GIFT_CARD))
    # A note typed into a redemption that was then cancelled is never shown.
    Redemption.objects.filter(pk=redemption.pk).update(fulfilment_note="EARLY")
    body = advocate_client.get(reverse("rewards:my_redemptions")).content.decode()
    assert "EARLY" not in body


def test_my_redemptions_query_count_does_not_grow(advocate, advocate_client) -> None:
    url = reverse("rewards:my_redemptions")
    for _ in range(3):
        redeem(advocate, RewardFactory())
    few = count_queries(advocate_client, url)
    for _ in range(25):
        redeem(advocate, RewardFactory())
    assert count_queries(advocate_client, url) == few


# --- The hub card ---------------------------------------------------------------------


def test_hub_shows_rewards_i_can_afford_and_my_open_redemptions(advocate, advocate_client) -> None:
    RewardFactory(name="Cheap pin", points_cost=50)
    RewardFactory(name="Nice mug", points_cost=150)
    RewardFactory(name="Trip", points_cost=9000)
    redemption = redeem(advocate, RewardFactory(name="Open hoodie", points_cost=10))
    give_points(advocate, 200)
    body = advocate_client.get(reverse("advocates:hub")).content.decode()
    card = body[body.index('id="hub-rewards-title"') :]
    assert "You can redeem these now" in card
    assert "Nice mug" in card
    assert "Cheap pin" in card
    assert "Trip" not in card
    assert "Open hoodie" in card
    assert reverse("rewards:redemption", args=[redemption.pk]) in card


def test_hub_shows_the_closest_reward_when_i_cannot_afford_any(advocate, advocate_client) -> None:
    give_points(advocate, 20)
    RewardFactory(name="Pin", points_cost=50)
    RewardFactory(name="Trip", points_cost=9000)
    body = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "Your next reward" in body
    assert "Pin" in body
    assert "30 points to go" in body
    assert "Trip" not in body


def test_hub_rewards_card_query_count_does_not_grow(advocate, advocate_client) -> None:
    url = reverse("advocates:hub")
    give_points(advocate, 10_000)
    for _ in range(3):
        redeem(advocate, RewardFactory(points_cost=10))
    advocate_client.get(url)  # other hub cards may set things up on the first visit
    few = count_queries(advocate_client, url)
    for _ in range(20):
        redeem(advocate, RewardFactory(points_cost=10))
    other = AdvocateFactory()
    redeem(other, RewardFactory(points_cost=10))
    assert count_queries(advocate_client, url) == few
