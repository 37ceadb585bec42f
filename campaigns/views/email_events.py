"""``POST /email/events/<provider>/``: the email provider's tracking webhook.

django-anymail parses each provider's own format (Postmark, Mailgun, Amazon SES
through SNS) into one kind of event and checks the request's authentication: HTTP
basic auth with ``EMAIL_WEBHOOK_SECRET``, and for Mailgun also its HMAC signature with
``MAILGUN_WEBHOOK_SIGNING_KEY``. SNS's own message signature is not checked
(django-anymail does not yet): for SES the basic auth in the subscription's URL is the
guard. Hard bounces, spam complaints and the provider's own rejections become
suppressions (``campaigns.services.suppressions``), so the next campaign skips those
addresses. The endpoint answers 404 until ``EMAIL_PROVIDER`` names that provider and a
secret is set: without one, anyone could suppress any address.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from campaigns.services.suppressions import suppression_from_event
from core.roles import public

VIEWS: dict[str, Any] = {
    "postmark": PostmarkTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "ses": AmazonSESTrackingWebhookView,
}


def _soft(event: AnymailTrackingEvent) -> bool:
    """A bounce the provider itself calls temporary (a full mailbox): it stops nothing.
    django-anymail reports Postmark's soft bounces as "bounced"."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return raw.get("Type") == "SoftBounce"


def _on_event(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    if _soft(event):
        return
    suppression_from_event(
        event_type=event.event_type,
        recipient=event.recipient or "",
        description=f"{esp_name}: {event.mta_response or event.description or event.event_type}",
    )


# Webhooks arrive in web processes, which import this module through the URLconf.
tracking.connect(_on_event, dispatch_uid="campaigns.email_events")


@public
@csrf_exempt
def email_events(request: HttpRequest, provider: str) -> HttpResponse:
    view = VIEWS.get(provider)
    if (
        view is None
        or provider != settings.EMAIL_PROVIDER
        or not settings.ANYMAIL["WEBHOOK_SECRET"]
    ):
        raise Http404("No email provider webhook here.")
    # anymail checks the basic auth against ANYMAIL["WEBHOOK_SECRET"] (EMAIL_WEBHOOK_SECRET).
    return view.as_view()(request)
