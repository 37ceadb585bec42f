"""The owner rep hears about a new referral once, however often the task runs."""

from __future__ import annotations

import pytest
from django.core import mail

from referrals.tasks import referral_notify_rep
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_a_repeated_notification_task_emails_the_rep_once(advocate, rep) -> None:
    referral = ReferralFactory(advocate=advocate, owner_rep=rep)
    mail.outbox.clear()

    first = referral_notify_rep.apply(args=[referral.pk]).result
    again = referral_notify_rep.apply(args=[referral.pk]).result

    assert [message.to for message in mail.outbox] == [[rep.email]]
    assert first == "sent to 1"
    assert again == "skipped: delivered"
    referral.refresh_from_db()
    assert referral.rep_notified_at is not None
