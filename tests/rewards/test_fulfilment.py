"""Fulfilment steps: approve, fulfil, cancel with refund; each once; one email per step."""

from __future__ import annotations

import pytest
from django.core import mail

from rewards.emails import redemption_deliver
from rewards.models import LedgerEntry, Redemption, Reward
from rewards.services import catalog
from tests.rewards.factories import RewardFactory, redeem


def test_approve_then_fulfil_with_a_note(advocate, manager) -> None:
    redemption = redeem(advocate, RewardFactory(kind=Reward.Kind.GIFT_CARD))
    approved = catalog.redemption_approve(redemption_id=redemption.pk, by=manager)
    fulfilled = catalog.redemption_fulfil(
        redemption_id=redemption.pk, note="  GIFT-1234-ABCD ", by=manager
    )
    assert approved.changed
    assert fulfilled.changed
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.FULFILLED
    assert redemption.fulfilment_note == "GIFT-1234-ABCD"
    assert redemption.approved_at
    assert redemption.fulfilled_at
    assert redemption.handled_by == manager


def test_repeated_steps_change_nothing(advocate, manager) -> None:
    redemption = redeem(advocate, RewardFactory())
    assert catalog.redemption_approve(redemption_id=redemption.pk).changed
    assert not catalog.redemption_approve(redemption_id=redemption.pk).changed
    assert catalog.redemption_fulfil(redemption_id=redemption.pk, note="first").changed
    again = catalog.redemption_fulfil(redemption_id=redemption.pk, note="second")
    assert not again.changed
    assert again.redemption.fulfilment_note == "first"
    # A fulfilled redemption can no longer be cancelled (nor refunded).
    balance = advocate.__class__.objects.get(pk=advocate.pk).balance
    assert not catalog.redemption_cancel(redemption_id=redemption.pk).changed
    assert advocate.__class__.objects.get(pk=advocate.pk).balance == balance
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.FULFILLED


def test_a_gift_card_needs_its_code(advocate) -> None:
    redemption = redeem(advocate, RewardFactory(kind=Reward.Kind.GIFT_CARD))
    with pytest.raises(catalog.FulfilmentNoteRequired):
        catalog.redemption_fulfil(redemption_id=redemption.pk, note="  ")
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.REQUESTED


def test_cancel_refunds_through_the_ledger_and_returns_the_unit(advocate, manager) -> None:
    reward = RewardFactory(points_cost=150, stock=2)
    redemption = redeem(advocate, reward)
    advocate.refresh_from_db()
    assert advocate.balance == 0
    result = catalog.redemption_cancel(
        redemption_id=redemption.pk, reason="Size not available", by=manager
    )
    assert result.changed
    advocate.refresh_from_db()
    reward.refresh_from_db()
    redemption.refresh_from_db()
    assert advocate.balance == 150
    assert reward.stock == 2
    assert redemption.status == Redemption.Status.CANCELLED
    assert redemption.cancel_reason == "Size not available"
    refund = redemption.refund_entry
    assert refund.kind == LedgerEntry.Kind.REFUND
    assert refund.amount == 150
    assert refund.reverses_id == redemption.spend_entry_id
    assert refund.idempotency_key == f"redemption:{redemption.pk}:refund"
    # The refund is a visible entry beside the spend: the ledger still sums to the balance.
    assert sum(LedgerEntry.objects.filter(advocate=advocate).values_list("amount", flat=True)) == (
        advocate.balance
    )


def test_cancelling_twice_refunds_once(advocate) -> None:
    reward = RewardFactory(points_cost=100, stock=1)
    redemption = redeem(advocate, reward)
    assert catalog.redemption_cancel(redemption_id=redemption.pk).changed
    assert not catalog.redemption_cancel(redemption_id=redemption.pk).changed
    advocate.refresh_from_db()
    reward.refresh_from_db()
    assert advocate.balance == 100
    assert reward.stock == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1


def test_an_approved_redemption_can_be_cancelled(advocate) -> None:
    redemption = redeem(advocate, RewardFactory(points_cost=80))
    catalog.redemption_approve(redemption_id=redemption.pk)
    assert catalog.redemption_cancel(redemption_id=redemption.pk).changed
    advocate.refresh_from_db()
    assert advocate.balance == 80


def test_one_email_per_step_to_the_advocate(
    advocate, manager, django_capture_on_commit_callbacks
) -> None:
    reward = RewardFactory(name="Coffee card", kind=Reward.Kind.GIFT_CARD)
    with django_capture_on_commit_callbacks(execute=True):
        redemption = redeem(advocate, reward)
    with django_capture_on_commit_callbacks(execute=True):
        catalog.redemption_approve(redemption_id=redemption.pk, by=manager)
        catalog.redemption_approve(redemption_id=redemption.pk, by=manager)  # double click
    with django_capture_on_commit_callbacks(execute=True):
        catalog.redemption_fulfil(redemption_id=redemption.pk, note="CODE-42", by=manager)
        catalog.redemption_fulfil(redemption_id=redemption.pk, note="CODE-43", by=manager)
    subjects = [message.subject for message in mail.outbox]
    assert subjects == [
        "You redeemed Coffee card",
        "Coffee card: approved",
        "Coffee card is on its way",
    ]
    assert all(message.to == [advocate.user.email] for message in mail.outbox)
    fulfilled = mail.outbox[-1]
    assert "CODE-42" in fulfilled.body
    assert "CODE-42" in fulfilled.alternatives[0][0]  # the HTML part
    assert "CODE-43" not in fulfilled.body


def test_a_retried_email_task_does_not_send_twice(advocate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        redemption = redeem(advocate, RewardFactory())
    assert len(mail.outbox) == 1
    assert redemption_deliver(redemption_id=redemption.pk, step="requested") == (
        "skipped: sent already"
    )
    assert len(mail.outbox) == 1


def test_cancel_email_says_the_points_are_back(advocate, django_capture_on_commit_callbacks):
    redemption = redeem(advocate, RewardFactory(name="Hoodie", points_cost=120))
    with django_capture_on_commit_callbacks(execute=True):
        catalog.redemption_cancel(redemption_id=redemption.pk, reason="Sold out")
    [message] = mail.outbox
    assert message.subject == "Hoodie: cancelled, points refunded"
    assert "120 points are back" in message.body
    assert "Sold out" in message.body


def test_a_failed_send_is_retried_and_then_sent_once(advocate, monkeypatch) -> None:
    redemption = redeem(advocate, RewardFactory())
    calls = {"n": 0}
    from rewards import emails

    real = emails.send_templated

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("SMTP down")
        real(**kwargs)

    monkeypatch.setattr(emails, "send_templated", flaky)
    with pytest.raises(OSError, match="SMTP down"):
        redemption_deliver(redemption_id=redemption.pk, step="requested")
    assert redemption_deliver(redemption_id=redemption.pk, step="requested") == "sent"
    assert redemption_deliver(redemption_id=redemption.pk, step="requested") == (
        "skipped: sent already"
    )
    assert len(mail.outbox) == 1
