"""Outgoing email for referrals (called by tasks, after commit)."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext

from core.i18n import language_of
from core.mail import send_templated
from core.roles import MANAGERS_GROUP
from referrals.models import Referral, ReferralMessage, Stage


def referral_notify_rep(*, referral_id: int) -> str:
    referral = (
        Referral.objects.select_related("advocate__user", "advocate__company", "owner_rep")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None or referral.stage == Stage.REJECTED:
        return "skipped: gone or rejected"
    if referral.rep_notified_at is not None:
        return "skipped: delivered"
    if referral.owner_rep is not None:
        recipients = [referral.owner_rep]
    else:
        recipients = list(
            get_user_model().objects.filter(groups__name=MANAGERS_GROUP, is_active=True)
        )
    url = settings.SITE_URL + reverse("referrals:rep_detail", kwargs={"pk": referral.pk})
    for recipient in recipients:
        send_templated(
            to=recipient.email,
            template="referral_new",
            context={"referral": referral, "url": url, "unassigned": referral.owner_rep is None},
            language=language_of(recipient),
        )
    Referral.objects.filter(pk=referral.pk, rep_notified_at__isnull=True).update(
        rep_notified_at=timezone.now()
    )
    return f"sent to {len(recipients)}"


def referral_message_deliver(*, message_id: int) -> str:
    message = (
        ReferralMessage.objects.select_related("referral__advocate__user")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.sent_at is not None:
        return "skipped: gone or sent"
    advocate_user = message.referral.advocate.user
    sender = advocate_user.get_full_name() or advocate_user.email
    # The advocate wrote this text: it goes out as plain text, and escaped in the HTML part.
    email = EmailMultiAlternatives(
        message.subject,
        message.body,
        # formataddr quotes the name: an advocate called "Lee, Ada" stays one address.
        from_email=formataddr(
            (
                gettext("%(sender)s via %(program)s")
                % {"sender": sender, "program": settings.PROGRAM_NAME},
                _from_address(),
            )
        ),
        to=[message.referral.referred_email],
        reply_to=[advocate_user.email],
    )
    email.attach_alternative(linebreaks(escape(message.body)), "text/html")
    email.send()
    ReferralMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    return "sent"


def _from_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "vouch@localhost"
