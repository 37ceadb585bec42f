"""The manager's side: managing rewards and the fulfilment queue."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from rewards.models import LedgerEntry, Redemption, Reward
from tests.factories import AdvocateFactory
from tests.rewards.factories import RewardFactory, redeem

VALID = {
    "name": "Team hoodie",
    "description": "Warm.",
    "kind": "swag",
    "points_cost": "300",
    "stock": "10",
    "limit_count": "1",
    "limit_period": "month",
    "starts_at": "",
    "ends_at": "",
    "needs_shipping": "on",
    "is_active": "on",
}


def png_upload(name: str = "hoodie.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (1600, 900), "#4338ca").save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue() + b"trailing-junk", content_type="image/png")


# --- Managing rewards -----------------------------------------------------------------


def test_manager_creates_a_reward_with_a_re_encoded_image(manager_client) -> None:
    response = manager_client.post(
        reverse("rewards:create"), VALID | {"image_upload": png_upload()}
    )
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert (reward.name, reward.points_cost, reward.stock) == ("Team hoodie", 300, 10)
    assert (reward.limit_count, reward.limit_period, reward.needs_shipping) == (1, "month", True)
    with reward.image.open("rb") as stored:
        data = stored.read()
    assert b"trailing-junk" not in data
    assert Image.open(io.BytesIO(data)).size == (800, 450)


def test_a_non_image_upload_is_refused_and_nothing_is_created(manager_client) -> None:
    fake = SimpleUploadedFile("x.png", b"<?php echo 1; ?>", content_type="image/png")
    response = manager_client.post(reverse("rewards:create"), VALID | {"image_upload": fake})
    assert response.status_code == 200
    assert "Upload a JPEG, PNG or WebP image." in response.content.decode()
    assert Reward.objects.count() == 0


def test_bad_values_are_refused_with_clear_messages(manager_client) -> None:
    response = manager_client.post(
        reverse("rewards:create"),
        VALID
        | {
            "points_cost": "0",
            "limit_count": "2",
            "limit_period": "",
            "starts_at": "2026-05-10T10:00",
            "ends_at": "2026-05-01T10:00",
        },
    )
    body = response.content.decode()
    assert "The cost must be at least 1 point." in body
    assert "Give both a number and a period, or neither." in body
    assert "The end must be after the start." in body
    assert Reward.objects.count() == 0


def test_negative_stock_is_refused(manager_client) -> None:
    response = manager_client.post(reverse("rewards:create"), VALID | {"stock": "-1"})
    assert response.status_code == 200
    assert Reward.objects.count() == 0


def test_a_rewards_cost_to_the_company_is_optional_and_not_negative(manager_client) -> None:
    response = manager_client.post(reverse("rewards:create"), VALID | {"cost_amount": "-5"})
    assert response.status_code == 200
    assert Reward.objects.count() == 0
    manager_client.post(reverse("rewards:create"), VALID | {"cost_amount": "24.50"})
    assert Reward.objects.get().cost_amount == Decimal("24.50")
    manager_client.post(reverse("rewards:create"), VALID | {"name": "Sticker"})
    assert Reward.objects.get(name="Sticker").cost_amount is None


def test_manager_edits_and_restocks_a_reward(manager_client) -> None:
    reward = RewardFactory(name="Mug", stock=0)
    response = manager_client.post(
        reverse("rewards:edit", args=[reward.pk]),
        VALID | {"name": "Big mug", "stock": "5", "limit_count": "", "limit_period": ""},
    )
    assert response.status_code == 302
    reward.refresh_from_db()
    assert (reward.name, reward.stock, reward.limit_count) == ("Big mug", 5, None)


def test_deactivate_hides_the_reward_from_advocates(manager_client, advocate_client) -> None:
    reward = RewardFactory(name="Old swag")
    manager_client.post(reverse("rewards:deactivate", args=[reward.pk]))
    reward.refresh_from_db()
    assert not reward.is_active
    assert "Old swag" not in advocate_client.get(reverse("rewards:catalog")).content.decode()


def test_manage_list_query_count_does_not_grow(manager_client) -> None:
    url = reverse("rewards:manage")
    RewardFactory.create_batch(5)
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    RewardFactory.create_batch(40, stock=3)
    with CaptureQueriesContext(connection) as many:
        body = manager_client.get(url).content.decode()
    assert len(few) == len(many)
    assert "Page 1 of 2" in body


# --- Fulfilment queue -----------------------------------------------------------------


def test_queue_lists_open_redemptions_oldest_first(advocate, manager_client) -> None:
    first = redeem(advocate, RewardFactory(name="First thing"))
    second = redeem(advocate, RewardFactory(name="Second thing"))
    done = redeem(advocate, RewardFactory(name="Done thing"))
    Redemption.objects.filter(pk=done.pk).update(status=Redemption.Status.FULFILLED)
    body = manager_client.get(reverse("rewards:fulfilment")).content.decode()
    assert body.index(f"#{first.pk} First thing") < body.index(f"#{second.pk} Second thing")
    assert "Done thing" not in body
    fulfilled = manager_client.get(reverse("rewards:fulfilment"), {"status": "fulfilled"})
    assert "Done thing" in fulfilled.content.decode()
    assert "First thing" not in fulfilled.content.decode()


def test_queue_query_count_does_not_grow(manager_client) -> None:
    url = reverse("rewards:fulfilment")
    for _ in range(5):
        redeem(AdvocateFactory(), RewardFactory(needs_shipping=True))
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    for _ in range(40):
        redeem(AdvocateFactory(), RewardFactory(kind=Reward.Kind.GIFT_CARD))
    with CaptureQueriesContext(connection) as many:
        body = manager_client.get(url).content.decode()
    assert len(few) == len(many)
    assert "45 redemptions" in body


def test_approve_with_htmx_returns_the_updated_row(advocate, manager_client, htmx_headers) -> None:
    redemption = redeem(advocate, RewardFactory(name="Mug"))
    response = manager_client.post(reverse("rewards:approve", args=[redemption.pk]), **htmx_headers)
    body = response.content.decode()
    assert f'id="redemption-{redemption.pk}"' in body
    assert "Approved" in body
    assert "<html" not in body
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.APPROVED
    again = manager_client.post(reverse("rewards:approve", args=[redemption.pk]), **htmx_headers)
    assert f"#{redemption.pk} is approved." in again.content.decode()


def test_fulfil_from_the_queue_shows_the_code_to_the_advocate(
    advocate, advocate_client, manager_client
) -> None:
    redemption = redeem(advocate, RewardFactory(kind=Reward.Kind.GIFT_CARD))
    response = manager_client.post(
        reverse("rewards:fulfil", args=[redemption.pk]), {"note": "GC-9999"}, follow=True
    )
    assert f"Fulfilled #{redemption.pk}." in response.content.decode()
    assert "GC-9999" in advocate_client.get(reverse("rewards:my_redemptions")).content.decode()


def test_fulfilling_a_gift_card_without_its_code_is_refused(advocate, manager_client) -> None:
    redemption = redeem(advocate, RewardFactory(kind=Reward.Kind.GIFT_CARD))
    response = manager_client.post(
        reverse("rewards:fulfil", args=[redemption.pk]), {"note": ""}, follow=True
    )
    assert "Enter the gift-card code" in response.content.decode()
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.REQUESTED


def test_cancel_from_the_queue_refunds_with_a_visible_entry(
    advocate, advocate_client, manager_client
) -> None:
    redemption = redeem(advocate, RewardFactory(name="Hat", points_cost=70, stock=0 + 1))
    response = manager_client.post(
        reverse("rewards:cancel", args=[redemption.pk]), {"reason": "Out of hats"}, follow=True
    )
    assert f"Cancelled #{redemption.pk}; 70 points refunded." in response.content.decode()
    refund = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND)
    assert refund.amount == 70
    hub = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "Refund: Hat cancelled" in hub
    assert "+70" in hub
