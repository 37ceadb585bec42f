"""Outbound webhooks: signed per Standard Webhooks, sent once after commit, retried with
backoff while the receiver is down, resent with the same id, never sent twice."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import events, webhooks
from core.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from tests.core.webhook_receiver import hanging, receiver

pytestmark = pytest.mark.django_db


def _endpoint(url: str, **kwargs) -> WebhookEndpoint:
    return webhooks.endpoint_create(url=url, by=None, **kwargs)


def _at(moment: datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_signature_matches_the_spec_test_vector() -> None:
    # The example of the Standard Webhooks specification (spec/standard-webhooks.md).
    headers = webhooks.signed_headers(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        event_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        body=b'{"test": 2432232314}',
        at=1614265330,
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_a_new_secret_has_the_standard_format() -> None:
    endpoint = _endpoint("https://example.com/hook")
    assert endpoint.secret.startswith("whsec_")
    assert len(webhooks.base64.b64decode(endpoint.secret.removeprefix("whsec_"))) == 24


def test_an_event_reaches_the_receiver_once_signed(django_capture_on_commit_callbacks) -> None:
    with receiver() as hook:
        endpoint = _endpoint(hook.url)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("referral.created", {"referral": 7})
        [body] = hook.verified(endpoint.secret)
    assert body["type"] == "referral.created"
    assert body["data"] == {"referral": 7}
    delivery = WebhookDelivery.objects.get()
    assert hook.ids() == [delivery.event_id]
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    # Delivered is final: neither the task run again nor the sweep sends it again.
    with receiver() as again:
        WebhookEndpoint.objects.update(url=again.url)
        webhooks.deliveries_send(delivery_ids=[delivery.pk])
        with _at(timezone.now() + timedelta(days=2)):
            webhooks.deliveries_send_due()
        assert again.requests == []


def test_a_receiver_down_for_a_while_gets_the_event_when_the_retries_come_due(
    django_capture_on_commit_callbacks,
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with receiver() as hook:
        hook.answers = [503, 503, 503]  # down for the first three attempts
        endpoint = _endpoint(hook.url)
        with _at(start), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("points.changed", {"advocate": 1, "amount": 50})
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_status_code == 503
        assert delivery.next_attempt_at == start + timedelta(seconds=30)

        with _at(start + timedelta(seconds=29)):
            assert webhooks.deliveries_send_due() == {}  # not due yet
        with _at(start + timedelta(seconds=30)):
            webhooks.deliveries_send_due()  # 2nd attempt: 503, next in 2 min
        with _at(start + timedelta(seconds=150)):
            webhooks.deliveries_send_due()  # 3rd: 503, next in 10 min
        with _at(start + timedelta(seconds=750)):
            assert webhooks.deliveries_send_due() == {"delivered": 1}

        bodies = hook.verified(endpoint.secret)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert len(bodies) == 4
    # Every attempt carries the event's one id, so the receiver can drop repeats.
    assert set(hook.ids()) == {delivery.event_id}


def test_a_delivery_that_never_succeeds_fails_after_about_a_day(
    django_capture_on_commit_callbacks,
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with receiver() as hook:
        hook.answers = [500] * 20
        _endpoint(hook.url)
        with _at(start), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("points.changed", {"advocate": 1})
        moment = start
        for wait in webhooks.BACKOFF:
            moment += wait
            with _at(moment):
                webhooks.deliveries_send_due()
        with _at(moment + timedelta(days=3)):
            webhooks.deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == webhooks.MAX_ATTEMPTS == len(hook.requests)
    assert timedelta(hours=20) < moment - start < timedelta(hours=25)


def test_a_receiver_that_hangs_costs_one_timeout_and_holds_up_no_other_endpoint(
    django_capture_on_commit_callbacks,
) -> None:
    with hanging() as dead, receiver() as live, mock.patch.object(webhooks, "TIMEOUT_SECONDS", 0.3):
        _endpoint(dead.url)
        _endpoint(live.url)
        with transaction.atomic():  # the sweep sends them, not the after-commit task
            events.emit_many("points.changed", [{"i": i} for i in range(4)])
        webhooks.deliveries_send_due()
        assert len(dead.requests) == 1  # tried once; its other three wait for the retry
        assert len(live.requests) == 4
    stuck = WebhookDelivery.objects.filter(endpoint__url=dead.url)
    assert set(stuck.values_list("status", "attempts")) == {("pending", 1)}
    assert stuck.filter(last_error__startswith="Not sent").count() == 3


def test_a_rolled_back_write_sends_nothing(django_capture_on_commit_callbacks) -> None:
    with receiver() as hook:
        _endpoint(hook.url)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    events.emit("referral.created", {"referral": 7})
                    raise RuntimeError("the service failed after emitting")
            except RuntimeError:
                pass
        assert callbacks == []
        webhooks.deliveries_send_due()
        assert hook.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_disabled_endpoint_gets_nothing(django_capture_on_commit_callbacks) -> None:
    with receiver() as on, receiver() as off:
        _endpoint(on.url)
        disabled = _endpoint(off.url)
        webhooks.endpoint_active_set(endpoint_id=disabled.pk, active=False, by=None)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("referral.created", {"referral": 7})
        assert len(on.requests) == 1
        assert off.requests == []


def test_disabling_an_endpoint_stops_what_it_still_had_to_retry(
    django_capture_on_commit_callbacks,
) -> None:
    with receiver() as hook:
        hook.answers = [503]
        endpoint = _endpoint(hook.url)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("referral.created", {"referral": 7})
        webhooks.endpoint_active_set(endpoint_id=endpoint.pk, active=False, by=None)
        with _at(timezone.now() + timedelta(hours=1)):
            webhooks.deliveries_send_due()
        assert len(hook.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.FAILED


def test_an_endpoint_gets_only_the_event_types_it_chose(django_capture_on_commit_callbacks) -> None:
    with receiver() as hook:
        _endpoint(hook.url, event_types=["referral.created"])
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("points.changed", {"advocate": 1})
            events.emit("referral.created", {"referral": 7})
        assert hook.types() == ["referral.created"]


def test_resend_sends_the_same_event_id_again(
    manager_client, django_capture_on_commit_callbacks
) -> None:
    with receiver() as hook:
        endpoint = _endpoint(hook.url)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events.emit("reward.fulfilled", {"redemption": 3})
        first = WebhookDelivery.objects.get()
        url = reverse("core:webhook_resend", kwargs={"pk": endpoint.pk, "delivery_pk": first.pk})
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(url)
        assert response.status_code == 302
        bodies = hook.verified(endpoint.secret)
    assert hook.ids() == [first.event_id, first.event_id]
    assert bodies[0] == bodies[1]
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2


def test_send_test_event_reaches_only_that_endpoint(
    manager_client, django_capture_on_commit_callbacks
) -> None:
    with receiver() as hook, receiver() as other:
        endpoint = _endpoint(hook.url)
        _endpoint(other.url)
        with django_capture_on_commit_callbacks(execute=True):
            manager_client.post(reverse("core:webhook_test", kwargs={"pk": endpoint.pk}))
        assert hook.types() == ["webhook.test"]
        assert other.requests == []
    # Like every other console action on an endpoint, the test send is in the audit log.
    test_entry = AuditEntry.objects.get(action="webhook.test")
    assert test_entry.detail == {"event": hook.ids()[0]}


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(manager_client) -> None:
    response = manager_client.post(
        reverse("core:webhooks"),
        {"url": "https://crm.example.com/vouch", "event_types": ["referral.created"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["referral.created"]
    assert endpoint.secret in response.content.decode()
    for page in (reverse("core:webhooks"), reverse("core:webhook", kwargs={"pk": endpoint.pk})):
        assert endpoint.secret not in manager_client.get(page).content.decode()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "javascript:alert(1)"])
def test_a_bad_url_is_refused_and_nothing_is_created(manager_client, url: str) -> None:
    response = manager_client.post(reverse("core:webhooks"), {"url": url})
    assert response.status_code == 200
    assert re.search(r"Enter (a valid|an http:// or https://) URL", response.content.decode())
    assert not WebhookEndpoint.objects.exists()


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(webhooks.WebhookError, match="Unknown event type"):
        _endpoint("https://example.com/hook", event_types=["points.stolen"])
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_is_paginated_in_a_constant_number_of_queries(
    manager_client, django_assert_max_num_queries
) -> None:
    endpoint = _endpoint("https://example.com/hook")
    url = reverse("core:webhook", kwargs={"pk": endpoint.pk})

    def add(n: int) -> None:
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event_id=f"evt_{i}", event_type="x", payload={})
            for i in range(n)
        )

    add(3)
    manager_client.get(url)  # session and roles warm
    with django_assert_max_num_queries(8) as few:
        manager_client.get(url)
    add(120)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(url)
    assert response.content.decode().count("Resend") == 50
    assert "Page 1 of 3" in response.content.decode()


def test_deleting_an_endpoint_removes_it_and_its_log(manager_client) -> None:
    endpoint = _endpoint("https://example.com/hook")
    WebhookDelivery.objects.create(endpoint=endpoint, event_id="evt_1", event_type="x", payload={})
    manager_client.post(reverse("core:webhook_delete", kwargs={"pk": endpoint.pk}))
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("value", ["", "yes", "true"])
def test_an_unclear_enable_or_disable_is_refused_and_changes_nothing(
    manager_client, value: str
) -> None:
    endpoint = _endpoint("https://example.com/hook")
    url = reverse("core:webhook_active", kwargs={"pk": endpoint.pk})
    response = manager_client.post(url, {"active": value}, follow=True)
    assert "Choose to enable (1) or disable (0)" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.active
    assert not AuditEntry.objects.filter(action="webhook.disable").exists()


def test_a_manager_disables_then_enables_an_endpoint(manager_client) -> None:
    endpoint = _endpoint("https://example.com/hook")
    url = reverse("core:webhook_active", kwargs={"pk": endpoint.pk})
    manager_client.post(url, {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active
    manager_client.post(url, {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.active


def test_the_endpoint_list_counts_each_endpoints_deliveries_by_status(
    manager_client, django_assert_max_num_queries
) -> None:
    busy = _endpoint("https://example.com/busy")
    quiet = _endpoint("https://example.com/quiet")
    statuses = ["delivered", "delivered", "pending", "failed", "failed", "failed"]
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=busy, event_id=f"evt_{i}", event_type="x", payload={}, status=s)
        for i, s in enumerate(statuses)
    )
    manager_client.get(reverse("core:webhooks"))  # session and roles warm
    with django_assert_max_num_queries(8):
        page = manager_client.get(reverse("core:webhooks")).content.decode()
    rows = {
        endpoint.url: re.search(
            re.escape(endpoint.url) + r".*?(\d+ delivered · \d+ pending · \d+ failed)", page, re.S
        )
        for endpoint in (busy, quiet)
    }
    assert rows[busy.url].group(1) == "2 delivered · 1 pending · 3 failed"
    assert rows[quiet.url].group(1) == "0 delivered · 0 pending · 0 failed"


def test_a_batch_slower_than_its_claim_sends_each_delivery_once() -> None:
    # Three slow answers in one batch outlast the lease the batch was claimed with; a
    # retry sweep that runs meanwhile must not send what the batch is still to send.
    start = timezone.now()
    clock = [start]
    nested = []
    real_post = webhooks._post

    def slow_post(delivery: WebhookDelivery):
        if clock[0] - start > webhooks.LEASE and not nested:
            nested.append(webhooks.deliveries_send_due())  # another worker's sweep
        answer = real_post(delivery)
        clock[0] += webhooks.LEASE * 0.6  # a stand-in for several slow answers
        return answer

    with (
        receiver() as hook,
        mock.patch.object(webhooks, "_post", side_effect=slow_post),
        mock.patch("django.utils.timezone.now", side_effect=lambda: clock[0]),
    ):
        endpoint = _endpoint(hook.url)
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                event_id=f"evt_{i}",
                event_type="x",
                payload={},
                next_attempt_at=start,
            )
            for i in range(3)
        )
        assert webhooks.deliveries_send_due() == {"delivered": 3}
    assert sorted(hook.ids()) == ["evt_0", "evt_1", "evt_2"]
    assert nested == [{}]  # the sweep ran, and found nothing of the batch's to send
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("core:webhook_active", {"active": "0"}),
        ("core:webhook_delete", {}),
        ("core:webhook_test", {}),
    ],
)
def test_acting_on_an_endpoint_another_manager_just_deleted_is_a_404(
    manager_client, name: str, data: dict
) -> None:
    endpoint = _endpoint("http://127.0.0.1:9/hook")
    gone = endpoint.pk
    endpoint.delete()
    assert manager_client.post(reverse(name, kwargs={"pk": gone}), data).status_code == 404


def test_resending_a_delivery_of_a_deleted_endpoint_is_a_404(manager_client) -> None:
    endpoint = _endpoint("http://127.0.0.1:9/hook")
    url = reverse("core:webhook_resend", kwargs={"pk": endpoint.pk, "delivery_pk": 999_999})
    assert manager_client.post(url).status_code == 404
