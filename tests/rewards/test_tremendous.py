"""Fulfilment through Tremendous, against recorded exchanges of its API
(tests/rewards/recordings/tremendous/README.md says where each comes from)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
import yaml
from celery.exceptions import Retry
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rewards.models import ProviderBalance, ProviderOrder, Redemption, Reward
from rewards.services import catalog, fulfilment
from rewards.tasks import provider_order_place
from tests.rewards.factories import RewardFactory, redeem

RECORDINGS = Path(__file__).parent / "recordings" / "tremendous"
BASE = "https://testflight.tremendous.com/api/v2"
SECRET = "whsec-test-private-key"
# The recipient of the recorded order: an advocate with this address is the one it went to.
RECORDED_RECIPIENT = "jdt@jdtrat.com"


def cassette(name: str) -> tuple[int, str]:
    """Status and body of the first exchange of a recorded (vcr) cassette."""
    interaction = yaml.safe_load((RECORDINGS / name).read_text())["http_interactions"][0]
    response = interaction["response"]
    return int(response["status"]["status_code"]), response["body"]["string"]


def recorded(name: str) -> str:
    return (RECORDINGS / name).read_text()


@pytest.fixture(autouse=True)
def tremendous(settings) -> None:
    settings.TREMENDOUS_API_KEY = "TEST_not_a_real_key"
    settings.TREMENDOUS_ENVIRONMENT = "sandbox"
    settings.TREMENDOUS_FUNDING_SOURCE = "balance"
    settings.TREMENDOUS_CAMPAIGN_ID = ""
    settings.TREMENDOUS_WEBHOOK_SECRET = SECRET
    settings.TREMENDOUS_BALANCE_WARNING = 100


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def gift_card(db) -> Reward:
    return RewardFactory(
        name="Coffee gift card",
        kind=Reward.Kind.GIFT_CARD,
        points_cost=100,
        fulfilment_provider="tremendous",
        provider_denomination=Decimal("0.36"),
        provider_currency="USD",
        provider_products="Q24BD9EZ332JT,VW9JLMPRL9N7",
    )


@pytest.fixture
def recipient(advocate):
    advocate.user.email = RECORDED_RECIPIENT
    advocate.user.save(update_fields=["email"])
    return advocate


def approve(redemption: Redemption, manager, capture) -> None:
    with capture(execute=True):
        catalog.redemption_approve(redemption_id=redemption.pk, by=manager)


def create_ok(api, status: int = 200) -> responses.BaseResponse:
    _, body = cassette("orders_create_200.yml")
    return api.post(f"{BASE}/orders", body=body, status=status, content_type="application/json")


def orders_posted(api) -> int:
    return sum(
        1
        for call in api.calls
        if call.request.method == "POST" and call.request.url.endswith("/orders")
    )


# --- Ordering -------------------------------------------------------------------------


def test_approving_orders_it_once_even_when_the_task_runs_twice(
    recipient, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(recipient, gift_card)
    create_ok(api)
    approve(redemption, manager, django_capture_on_commit_callbacks)
    # A redelivered message, a retry, a second worker: nothing is ordered again.
    assert provider_order_place(redemption.pk) == "skipped: ordered"
    assert provider_order_place.delay(redemption.pk).get() == "skipped: ordered"

    assert orders_posted(api) == 1
    sent = json.loads(api.calls[0].request.body)
    assert sent["external_id"] == f"vouch-redemption-{redemption.pk}"
    assert sent["payment"] == {"funding_source_id": "balance"}
    assert sent["reward"]["recipient"]["email"] == RECORDED_RECIPIENT
    assert sent["reward"]["value"] == {"denomination": 0.36, "currency_code": "USD"}
    assert sent["reward"]["products"] == ["Q24BD9EZ332JT", "VW9JLMPRL9N7"]
    assert sent["reward"]["delivery"] == {"method": "EMAIL"}
    assert api.calls[0].request.headers["Authorization"] == "Bearer TEST_not_a_real_key"

    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.ORDERED
    assert (order.order_id, order.reward_id) == ("666C3TFV789G", "O68G4UC8Z7EG")
    assert order.delivery_status == "PENDING"
    assert order.attempts == 1
    # Still approved (the email is on its way), out of a manager's hands meanwhile.
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.APPROVED
    assert not redemption.manual_actions
    with pytest.raises(catalog.ProviderOrderInFlight):
        catalog.redemption_cancel(redemption_id=redemption.pk, by=manager)
    with pytest.raises(catalog.ProviderOrderInFlight):
        catalog.redemption_fulfil(redemption_id=redemption.pk, note="CODE", by=manager)


def test_insufficient_funds_lands_in_the_manual_queue_with_the_reason(
    advocate, manager, gift_card, api, manager_client, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(advocate, gift_card)
    api.post(
        f"{BASE}/orders",
        body=recorded("error_402_insufficient_funds.json"),
        status=402,
        content_type="application/json",
    )
    approve(redemption, manager, django_capture_on_commit_callbacks)

    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.FAILED
    assert order.failure_reason.startswith("Not enough funds in the Tremendous account")
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.APPROVED
    assert redemption.manual_actions
    # No refund happened on its own: the points stay spent until a manager decides.
    advocate.refresh_from_db()
    assert advocate.balance == 0

    page = manager_client.get(reverse("rewards:fulfilment")).content.decode()
    assert f"#{redemption.pk} Coffee gift card" in page
    assert "Not enough funds in the Tremendous account" in page
    assert "Order again through Tremendous" in page
    assert "Mark fulfilled" in page

    # Fulfilled by hand from the queue, as any gift card.
    catalog.redemption_fulfil(redemption_id=redemption.pk, note="CODE-1", by=manager)
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.FULFILLED


def test_a_refused_payload_goes_back_with_tremendous_own_words(
    advocate, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(advocate, gift_card)
    api.post(
        f"{BASE}/orders",
        body=recorded("error_422_validation.json"),
        status=422,
        content_type="application/json",
    )
    approve(redemption, manager, django_capture_on_commit_callbacks)
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.FAILED
    assert "Order failed: validation failure" in order.failure_reason
    assert "payment.funding_source_id: Your request was missing" in order.failure_reason


def test_duplicate_external_id_adopts_the_existing_order(
    recipient, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    """Tremendous answers a repeated external_id with the first order (HTTP 201)."""
    redemption = redeem(recipient, gift_card)
    create_ok(api, status=201)
    approve(redemption, manager, django_capture_on_commit_callbacks)
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.ORDERED
    assert order.order_id == "666C3TFV789G"
    assert orders_posted(api) == 1


def test_a_conflicting_external_id_is_looked_up_and_adopted_when_it_is_ours(
    recipient, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(recipient, gift_card)
    external_id = f"vouch-redemption-{redemption.pk}"
    api.post(f"{BASE}/orders", json={"errors": {"message": "Conflict"}}, status=409)
    _, body = cassette("orders_create_200.yml")
    api.get(f"{BASE}/orders/{external_id}", body=body, status=200, content_type="application/json")
    approve(redemption, manager, django_capture_on_commit_callbacks)
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.ORDERED
    assert order.order_id == "666C3TFV789G"


def test_a_conflicting_order_sent_to_someone_else_is_not_adopted(
    advocate, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(advocate, gift_card)  # not the recorded recipient
    api.post(f"{BASE}/orders", json={"errors": {"message": "Conflict"}}, status=409)
    _, body = cassette("orders_create_200.yml")
    api.get(
        f"{BASE}/orders/vouch-redemption-{redemption.pk}",
        body=body,
        status=200,
        content_type="application/json",
    )
    approve(redemption, manager, django_capture_on_commit_callbacks)
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.FAILED
    assert "sent to someone else" in order.failure_reason


def test_a_timeout_then_success_orders_once(
    recipient, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    """The first POST times out (did it reach Tremendous?); the retry looks the order up
    by external id, finds it, and orders nothing more."""
    redemption = redeem(recipient, gift_card)
    api.post(f"{BASE}/orders", body=requests.Timeout("read timed out"))
    _, body = cassette("orders_create_200.yml")
    api.get(
        f"{BASE}/orders/vouch-redemption-{redemption.pk}",
        body=body,
        status=200,
        content_type="application/json",
    )
    with pytest.raises(Retry):  # the task's autoretry: in a worker, later
        approve(redemption, manager, django_capture_on_commit_callbacks)
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.ORDERING
    assert order.in_doubt
    # A manager cannot refund it while it may exist at Tremendous.
    with pytest.raises(catalog.ProviderOrderInFlight):
        catalog.redemption_cancel(redemption_id=redemption.pk, by=manager)

    assert provider_order_place(redemption.pk) == "ordered"
    order.refresh_from_db()
    assert order.state == ProviderOrder.State.ORDERED
    assert order.order_id == "666C3TFV789G"
    assert not order.in_doubt
    assert orders_posted(api) == 1
    assert order.attempts == 2


def test_a_timeout_that_never_reached_tremendous_orders_on_retry(
    recipient, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(recipient, gift_card)
    api.post(f"{BASE}/orders", body=requests.ConnectionError("connection reset"))
    with pytest.raises(Retry):
        approve(redemption, manager, django_capture_on_commit_callbacks)
    api.replace(responses.POST, f"{BASE}/orders", body=cassette("orders_create_200.yml")[1])
    api.get(
        f"{BASE}/orders/vouch-redemption-{redemption.pk}",
        json={"errors": {"message": "Not found"}},
        status=404,
    )
    assert provider_order_place(redemption.pk) == "ordered"
    assert orders_posted(api) == 2  # the first never arrived


def test_a_server_error_is_retried_not_failed(
    advocate, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(advocate, gift_card)
    api.post(f"{BASE}/orders", status=503, body="")
    with pytest.raises(Retry):
        approve(redemption, manager, django_capture_on_commit_callbacks)
    assert ProviderOrder.objects.get(redemption=redemption).state == ProviderOrder.State.ORDERING


def test_no_answer_for_too_long_goes_back_to_a_manager_told_to_check_tremendous(
    advocate, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(advocate, gift_card)
    with django_capture_on_commit_callbacks(execute=False):
        catalog.redemption_approve(redemption_id=redemption.pk, by=manager)
    ProviderOrder.objects.filter(redemption=redemption).update(
        in_doubt=True, attempts=fulfilment.MAX_ATTEMPTS - 1
    )
    api.get(f"{BASE}/orders/vouch-redemption-{redemption.pk}", status=502, body="")
    assert provider_order_place(redemption.pk) == "failed: no answer"
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.FAILED
    assert f"look for order vouch-redemption-{redemption.pk}" in order.failure_reason
    assert orders_posted(api) == 0


def test_a_lease_held_by_another_attempt_is_left_alone(
    recipient, manager, gift_card, api, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(recipient, gift_card)
    create_ok(api)
    with django_capture_on_commit_callbacks(execute=False):
        catalog.redemption_approve(redemption_id=redemption.pk, by=manager)
    ProviderOrder.objects.filter(redemption=redemption).update(
        lease_until=timezone.now() + fulfilment.LEASE
    )
    assert provider_order_place(redemption.pk) == "skipped: another attempt holds the lease"
    assert orders_posted(api) == 0


def test_without_a_key_everything_stays_manual(
    advocate, manager, gift_card, settings, api, django_capture_on_commit_callbacks
) -> None:
    settings.TREMENDOUS_API_KEY = ""
    redemption = redeem(advocate, gift_card)
    approve(redemption, manager, django_capture_on_commit_callbacks)
    assert not ProviderOrder.objects.exists()
    assert len(api.calls) == 0
    redemption.refresh_from_db()
    assert redemption.manual_actions


def test_retrying_a_failed_order_orders_again(
    recipient, manager, gift_card, api, manager_client, django_capture_on_commit_callbacks
) -> None:
    redemption = redeem(recipient, gift_card)
    api.post(
        f"{BASE}/orders",
        body=recorded("error_402_insufficient_funds.json"),
        status=402,
        content_type="application/json",
    )
    approve(redemption, manager, django_capture_on_commit_callbacks)
    # Topped up: Tremendous now takes it.
    api.replace(responses.POST, f"{BASE}/orders", body=cassette("orders_create_200.yml")[1])
    api.get(f"{BASE}/orders/vouch-redemption-{redemption.pk}", status=404, json={})
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("rewards:provider_retry", args=[redemption.pk]))
    assert response.status_code == 302
    order = ProviderOrder.objects.get(redemption=redemption)
    assert order.state == ProviderOrder.State.ORDERED
    assert order.failure_reason == ""


# --- Delivery: webhooks and the poll --------------------------------------------------


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def ordered(recipient, manager, gift_card, api, django_capture_on_commit_callbacks) -> Redemption:
    redemption = redeem(recipient, gift_card)
    create_ok(api)
    approve(redemption, manager, django_capture_on_commit_callbacks)
    return redemption


def test_a_signed_delivery_webhook_fulfils_it_and_the_advocate_sees_it(
    client, ordered, recipient, django_capture_on_commit_callbacks
) -> None:
    body = recorded("webhook_rewards_delivery_succeeded.json").encode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("rewards:tremendous_webhook"),
            data=body,
            content_type="application/json",
            headers={"Tremendous-Webhook-Signature": sign(body)},
        )
    assert response.status_code == 200
    assert response.json() == {"result": "delivered"}
    order = ProviderOrder.objects.get(redemption=ordered)
    assert order.state == ProviderOrder.State.DELIVERED
    redemption = Redemption.objects.get(pk=ordered.pk)
    assert redemption.status == Redemption.Status.FULFILLED
    assert [message.to for message in mail.outbox] == [[RECORDED_RECIPIENT]]
    assert "has emailed it to you: open the email from Tremendous" in mail.outbox[0].body
    assert "gift-card code" not in mail.outbox[0].body

    # The same event again (Tremendous retries deliveries) changes nothing.
    again = client.post(
        reverse("rewards:tremendous_webhook"),
        data=body,
        content_type="application/json",
        headers={"Tremendous-Webhook-Signature": sign(body)},
    )
    assert again.json() == {"result": "skipped: delivered"}

    client.force_login(recipient.user)
    page = client.get(reverse("rewards:redemption", args=[ordered.pk])).content.decode()
    assert "Delivered" in page
    assert "Tremendous delivered it to" in page
    listing = client.get(reverse("rewards:my_redemptions")).content.decode()
    assert "Delivered by Tremendous to your email" in listing
    assert "Gift-card code" not in listing  # no code is stored, none is pretended
    assert redemption.fulfilment_note == ""


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, "deadbeef", sign(b"{}"), sign(b"x", secret="another")],
)
def test_a_bad_signature_is_refused_and_changes_nothing(client, ordered, signature) -> None:
    body = recorded("webhook_rewards_delivery_succeeded.json").encode()
    response = client.post(
        reverse("rewards:tremendous_webhook"),
        data=body,
        content_type="application/json",
        headers={"Tremendous-Webhook-Signature": signature},
    )
    assert response.status_code == 401
    assert ProviderOrder.objects.get(redemption=ordered).state == ProviderOrder.State.ORDERED
    assert Redemption.objects.get(pk=ordered.pk).status == Redemption.Status.APPROVED


def test_a_signed_body_that_is_not_an_event_is_a_400(client, ordered) -> None:
    body = b'{"hello": "world"}'
    response = client.post(
        reverse("rewards:tremendous_webhook"),
        data=body,
        content_type="application/json",
        headers={"Tremendous-Webhook-Signature": sign(body)},
    )
    assert response.status_code == 400


def test_the_webhook_is_not_there_without_a_secret(client, settings, db) -> None:
    settings.TREMENDOUS_WEBHOOK_SECRET = ""
    body = recorded("webhook_rewards_delivery_succeeded.json").encode()
    response = client.post(
        reverse("rewards:tremendous_webhook"),
        data=body,
        content_type="application/json",
        headers={"Tremendous-Webhook-Signature": sign(body)},
    )
    assert response.status_code == 404


def test_a_failed_delivery_event_returns_it_to_the_manual_queue(client, ordered) -> None:
    event = json.loads(recorded("webhook_rewards_delivery_succeeded.json"))
    event["event"] = "REWARDS.DELIVERY.FAILED"
    body = json.dumps(event).encode()
    response = client.post(
        reverse("rewards:tremendous_webhook"),
        data=body,
        content_type="application/json",
        headers={"Tremendous-Webhook-Signature": sign(body)},
    )
    assert response.json() == {"result": "failed"}
    order = ProviderOrder.objects.get(redemption=ordered)
    assert order.state == ProviderOrder.State.FAILED
    assert "could not deliver" in order.failure_reason
    assert Redemption.objects.get(pk=ordered.pk).manual_actions


def test_the_poll_follows_orders_no_webhook_moved(ordered, api) -> None:
    order = ProviderOrder.objects.get(redemption=ordered)
    api.get(
        f"{BASE}/orders/{order.order_id}",
        body=recorded("orders_retrieve_200.json"),
        status=200,
        content_type="application/json",
    )
    later = timezone.now() + timedelta(minutes=10)
    assert fulfilment.provider_orders_poll(now=later) == "restarted 0, checked 1"
    order.refresh_from_db()
    assert order.state == ProviderOrder.State.ORDERED  # the recording: delivery PENDING
    assert order.delivery_status == "PENDING"


# --- The funding balance --------------------------------------------------------------


def test_the_balance_is_fetched_and_warns_under_the_threshold(
    api, manager_client, settings, db
) -> None:
    _, body = cassette("funding_sources_200.yml")
    api.get(f"{BASE}/funding_sources", body=body, status=200, content_type="application/json")
    assert fulfilment.provider_balance_refresh() == "tremendous: 497388"
    balance = ProviderBalance.objects.get(provider="tremendous")
    assert balance.available_cents == 497388

    page = manager_client.get(reverse("rewards:fulfilment")).content.decode()
    assert "Tremendous balance: 4,973.88 USD" in page
    assert "top it up" not in page

    settings.TREMENDOUS_BALANCE_WARNING = 5000
    # A setting changes with a deploy, not a write: the cached queue is dropped here as
    # every fragment is after at most a minute.
    cache.clear()
    page = manager_client.get(reverse("rewards:fulfilment")).content.decode()
    assert "under 5,000 USD: top it up" in page


def test_a_balance_fetched_shows_on_the_cached_queue(
    api, manager_client, gift_card, fragments_held
) -> None:
    """The queue's body is cached (core.fragments): the fetch saves the balance's row,
    whose signal drops the queue's version."""
    url = reverse("rewards:fulfilment")
    assert "Its funding balance shows here after the next check" in (
        manager_client.get(url).content.decode()
    )
    _, body = cassette("funding_sources_200.yml")
    api.get(f"{BASE}/funding_sources", body=body, status=200, content_type="application/json")
    fulfilment.provider_balance_refresh()
    assert "Tremendous balance: 4,973.88 USD" in manager_client.get(url).content.decode()


def test_the_console_says_when_tremendous_is_not_configured(
    manager_client, settings, gift_card
) -> None:
    settings.TREMENDOUS_API_KEY = ""
    page = manager_client.get(reverse("rewards:fulfilment")).content.decode()
    assert "Tremendous is not configured." in page
    assert "1 reward marked" in page


def test_the_queue_reads_provider_orders_in_its_own_query(
    manager_client, advocate, gift_card
) -> None:
    def queue_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(reverse("rewards:fulfilment")).status_code == 200
        return len(queries)

    def add(n: int) -> None:
        for _ in range(n):
            redemption = redeem(advocate, gift_card)
            catalog.redemption_approve(redemption_id=redemption.pk)  # its order row
            ProviderOrder.objects.filter(redemption=redemption).update(
                state=ProviderOrder.State.FAILED, failure_reason="Not enough funds"
            )

    add(2)
    few = queue_queries()
    add(8)
    assert queue_queries() == few


# --- Marking a reward provider-backed -------------------------------------------------


def test_a_manager_marks_a_reward_for_tremendous_with_clear_errors(manager_client) -> None:
    from tests.rewards.test_console import VALID

    url = reverse("rewards:create")
    response = manager_client.post(url, VALID | {"fulfilment_provider": "tremendous"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Give the value to send, e.g. 25.00." in page
    assert "Give product ids or a campaign id." in page
    assert not Reward.objects.exists()

    response = manager_client.post(
        url,
        VALID
        | {
            "fulfilment_provider": "tremendous",
            "provider_denomination": "25.00",
            "provider_currency": "usd",
            "provider_products": "Q24BD9EZ332JT, VW9JLMPRL9N7",
        },
    )
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert reward.provider_denomination == Decimal("25.00")
    assert reward.provider_currency == "USD"
    assert reward.provider_product_ids == ["Q24BD9EZ332JT", "VW9JLMPRL9N7"]
