"""Email through a provider's HTTP API (django-anymail): its webhook turns hard bounces
and spam complaints into suppressions, and campaigns send through it without ever
sending one message twice.

Recorded exchanges: the webhook bodies and API answers below are the providers' own
examples as django-anymail's test suite records them (tests/test_postmark_webhooks.py,
tests/test_postmark_backend.py, tests/test_mailgun_webhooks.py and
tests/test_amazon_ses_webhooks.py in github.com/anymail/django-anymail, release 15.1),
which copy Postmark's, Mailgun's and Amazon SES's documentation (the SES ones cite
docs.aws.amazon.com/ses/latest/DeveloperGuide/notification-examples.html).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from io import BytesIO
from unittest import mock

import pytest
import requests
from django.core import mail
from django.test import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from campaigns.models import CampaignMessage, Suppression
from campaigns.services import campaigns as campaign_services
from tests import factories
from tests.campaigns.test_sending import make_campaign, run

pytestmark = pytest.mark.django_db
SECRET = "vouch:webhook-secret"
MAILGUN_SIGNING_KEY = "TEST_WEBHOOK_SIGNING_KEY"
URL = "/email/events/{}/"

POSTMARK_HARD_BOUNCE = {
    "RecordType": "Bounce",
    "ID": 901542550,
    "Type": "HardBounce",
    "TypeCode": 1,
    "ServerID": 23,
    "Name": "Hard bounce",
    "MessageID": "2706ee8a-737c-4285-b032-ccd317af53ed",
    "Description": "The server was unable to deliver your message"
    " (ex: unknown user, mailbox not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "bounce@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2016-04-27T16:28:50.3963933-04:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Postmark event test",
    "Content": "...",
}
POSTMARK_SPAM = {
    "RecordType": "SpamComplaint",
    "ID": 901542550,
    "Type": "SpamComplaint",
    "TypeCode": 512,
    "Name": "Spam complaint",
    "Tag": "Test",
    "MessageID": "2706ee8a-737c-4285-b032-ccd317af53ed",
    "ServerID": 1234,
    "Description": "",
    "Details": "Test spam complaint details",
    "Email": "spam@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2016-04-27T16:28:50.3963933-04:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": False,
    "Subject": "Postmark event test",
}


@pytest.fixture
def provider(settings):
    def use(name: str) -> None:
        settings.EMAIL_PROVIDER = name
        settings.ANYMAIL = settings.ANYMAIL | {
            "POSTMARK_SERVER_TOKEN": "test_server_token",
            "MAILGUN_API_KEY": "test_api_key",
            "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
            "WEBHOOK_SECRET": [SECRET],
        }

    return use


def _post(
    provider_name: str,
    body,
    *,
    auth: str | None = SECRET,
    content_type: str = "application/json",
    **headers: str,
):
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client().post(
        URL.format(provider_name), data=json.dumps(body), content_type=content_type, **headers
    )


def test_a_hard_bounce_suppresses_the_address(provider) -> None:
    provider("postmark")
    assert _post("postmark", POSTMARK_HARD_BOUNCE).status_code == 200
    row = Suppression.objects.get()
    assert row.email == "bounce@example.com"
    assert row.reason == Suppression.Reason.BOUNCED
    assert "550 5.1.1" in row.detail
    # The provider retries its webhook: still one suppression.
    assert _post("postmark", POSTMARK_HARD_BOUNCE).status_code == 200
    assert Suppression.objects.count() == 1


def test_a_spam_complaint_suppresses_the_address(provider) -> None:
    provider("postmark")
    assert _post("postmark", POSTMARK_SPAM).status_code == 200
    assert Suppression.objects.get().reason == Suppression.Reason.COMPLAINED


def test_a_soft_bounce_suppresses_nothing(provider) -> None:
    provider("postmark")
    soft = POSTMARK_HARD_BOUNCE | {"Type": "SoftBounce", "TypeCode": 4096, "Name": "Soft bounce"}
    assert _post("postmark", soft).status_code == 200
    assert not Suppression.objects.exists()


# Mailgun: its "failed"/"complained" events (anymail's test_mailgun_webhooks.py), signed as
# Mailgun signs them: HMAC-SHA256 of timestamp + token with the webhook signing key.
MAILGUN_PERMANENT_FAILURE = {
    "event": "failed",
    "severity": "permanent",
    "reason": "bounce",
    "recipient": "invalid@example.com",
    "timestamp": 1534110422.389832,
    "log-level": "error",
    "message": {
        "headers": {
            "to": "invalid@example.com",
            "message-id": "20180812214658.1.0DF563D0B3597700@example.org",
            "from": "Test Sender ",
        },
    },
    "delivery-status": {
        "tls": True,
        "mx-host": "aspmx.l.example.org",
        "attempt-no": 1,
        "description": "",
        "session-seconds": 2.952177047729492,
        "utf8": True,
        "code": 550,
        "message": "5.1.1 The email account that you tried to reach does not exist. Please try\n"
        "5.1.1 double-checking the recipient's email address for typos",
        "certificate-verified": True,
    },
}
MAILGUN_TEMPORARY_FAILURE = {
    "event": "failed",
    "severity": "temporary",
    "reason": "generic",
    "timestamp": 1534111899.659519,
    "log-level": "warn",
    "message": {
        "headers": {
            "to": "undeliverable@nomx.example.com",
            "message-id": "20180812214638.1.4A7D468E9BC18C5D@example.org",
            "from": "Test Sender ",
            "subject": "Testing",
        },
    },
    "recipient": "undeliverable@nomx.example.com",
    "delivery-status": {
        "attempt-no": 3,
        "description": "No MX for nomx.example.com",
        "session-seconds": 0.0,
        "retry-seconds": 1800,
        "code": 498,
        "message": "No MX for nomx.example.com",
    },
}
MAILGUN_COMPLAINED = {
    "event": "complained",
    "id": "ncV2XwymRUKbPek_MIM-Gw",
    "timestamp": 1377214260.049634,
    "log-level": "warn",
    "recipient": "recipient@example.com",
    "message": {
        "headers": {
            "to": "foo@recipient.com",
            "message-id": "20130718032413.263EE2E0926@example.org",
            "from": "Sender Name <sender@example.org>",
            "subject": "We are not spammer",
        },
    },
}


def _mailgun(event: dict, *, key: str = MAILGUN_SIGNING_KEY) -> dict:
    timestamp, token = str(int(event["timestamp"])), "1234567890abcdef1234567890abcdef"
    digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": digest},
        "event-data": event,
    }


def test_mailgun_permanent_failures_and_complaints_suppress(provider) -> None:
    provider("mailgun")
    assert _post("mailgun", _mailgun(MAILGUN_PERMANENT_FAILURE)).status_code == 200
    assert _post("mailgun", _mailgun(MAILGUN_COMPLAINED)).status_code == 200
    assert _post("mailgun", _mailgun(MAILGUN_TEMPORARY_FAILURE)).status_code == 200
    rows = dict(Suppression.objects.values_list("email", "reason"))
    assert rows == {
        "invalid@example.com": Suppression.Reason.BOUNCED,
        "recipient@example.com": Suppression.Reason.COMPLAINED,
    }  # the temporary failure (no MX yet) suppresses nothing


@pytest.mark.parametrize(
    ("body", "auth"),
    [
        (_mailgun(MAILGUN_PERMANENT_FAILURE, key="not the signing key"), SECRET),
        ({"event-data": MAILGUN_PERMANENT_FAILURE}, SECRET),  # unsigned
        (_mailgun(MAILGUN_PERMANENT_FAILURE), "vouch:wrong"),
    ],
)
def test_a_mailgun_event_not_signed_with_both_secrets_changes_nothing(
    provider, body: dict, auth: str
) -> None:
    provider("mailgun")
    assert _post("mailgun", body, auth=auth).status_code == 400
    assert not Suppression.objects.exists()


# Amazon SES through SNS: SES's documented bounce and complaint notifications wrapped in
# SNS's envelope (anymail's test_amazon_ses_webhooks.py); SNS posts JSON as text/plain.
SES_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "reportingMTA": "dns; email.example.com",
        "bouncedRecipients": [
            {
                "emailAddress": "jane@example.com",
                "status": "5.1.1",
                "action": "failed",
                "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>... User unknown",
            }
        ],
        "bounceSubType": "General",
        "timestamp": "2016-01-27T14:59:44.101Z",
        "feedbackId": "00000138111222aa-44455566-cccc-cccc-cccc-ddddaaaa068a-000000",
        "remoteMtaIp": "127.0.2.0",
    },
    "mail": {
        "timestamp": "2016-01-27T14:59:38.237Z",
        "source": "john@example.com",
        "messageId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
        "destination": ["jane@example.com", "mary@example.com", "richard@example.com"],
    },
}
SES_COMPLAINT = {
    "notificationType": "Complaint",
    "complaint": {
        "userAgent": "AnyCompany Feedback Loop (V0.01)",
        "complainedRecipients": [{"emailAddress": "richard@example.com"}],
        "complaintFeedbackType": "abuse",
    },
    "mail": {
        "messageId": "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000",
        "destination": ["jane@example.com", "mary@example.com", "richard@example.com"],
    },
}


def _sns(ses_event: dict, message_id: str, *, auth: str | None = SECRET):
    envelope = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:us-east-1:1234567890:SES_Events",
        "Subject": "Amazon SES Email Event Notification",
        "Message": json.dumps(ses_event) + "\n",
        "Timestamp": "2018-03-26T17:58:59.675Z",
    }
    return _post(
        "ses",
        envelope,
        auth=auth,
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_ID=message_id,
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
    )


def test_ses_bounces_and_complaints_suppress(provider) -> None:
    provider("ses")
    assert _sns(SES_BOUNCE, "19ba9823-d7f2-53c1-860e-cb10e0d13dfc").status_code == 200
    assert _sns(SES_COMPLAINT, "19ba9823-d7f2-53c1-860e-cb10e0d13dfd").status_code == 200
    rows = dict(Suppression.objects.values_list("email", "reason"))
    assert rows == {
        "jane@example.com": Suppression.Reason.BOUNCED,
        "richard@example.com": Suppression.Reason.COMPLAINED,
    }


def test_an_ses_notification_without_the_secret_asks_for_it_and_changes_nothing(
    provider,
) -> None:
    provider("ses")
    # SNS sends basic auth only after a 401 that asks for it.
    response = _sns(SES_BOUNCE, "19ba9823-d7f2-53c1-860e-cb10e0d13dfc", auth=None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    wrong = _sns(SES_BOUNCE, "19ba9823-d7f2-53c1-860e-cb10e0d13dfc", auth="vouch:wrong")
    assert wrong.status_code == 400
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("auth", [None, "vouch:wrong", "someone:else"])
def test_a_webhook_without_the_secret_changes_nothing(provider, auth) -> None:
    provider("postmark")
    assert _post("postmark", POSTMARK_HARD_BOUNCE, auth=auth).status_code == 400
    assert not Suppression.objects.exists()


def test_the_webhook_is_off_unless_that_provider_is_configured_with_a_secret(
    provider, settings
) -> None:
    provider("postmark")
    assert _post("mailgun", POSTMARK_HARD_BOUNCE).status_code == 404  # not our provider
    assert _post("nosuch", POSTMARK_HARD_BOUNCE).status_code == 404
    settings.ANYMAIL = settings.ANYMAIL | {"WEBHOOK_SECRET": []}
    assert _post("postmark", POSTMARK_HARD_BOUNCE).status_code == 404
    assert not Suppression.objects.exists()


# --- Campaigns through the provider's API -----------------------------------------------

POSTMARK_OK = b"""{
    "To": "to@example.com",
    "SubmittedAt": "2016-03-12T15:27:50.4468803-05:00",
    "MessageID": "b4007d94-33f1-4e78-a783-97417d6c80e6",
    "ErrorCode":0,
    "Message":"OK"
}"""
POSTMARK_INACTIVE = (
    b'{"ErrorCode":406,"Message":"You tried to send to a recipient that has been marked as'
    b" inactive.\\nFound inactive addresses: {email}.\\nInactive recipients are ones that"
    b' have generated a hard bounce or a spam complaint."}'
)


def _response(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.raw = BytesIO(body)
    response.encoding = "utf-8"
    response.headers["Content-Type"] = "application/json"
    return response


@pytest.fixture
def postmark_api(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = settings.ANYMAIL | {"POSTMARK_SERVER_TOKEN": "test_server_token"}
    answers: dict[str, list] = {}  # per address, the next answers (then 200 OK)
    sent: list[dict] = []

    def request(session, method, url, **kwargs):
        payload = json.loads(kwargs["data"])
        sent.append(payload)
        queued = answers.get(payload["To"]) or [_response(200, POSTMARK_OK)]
        answer = queued.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with mock.patch("requests.Session.request", autospec=True, side_effect=request):
        yield answers, sent


def _campaign_to(manager, *emails: str):
    for email in emails:
        factories.AdvocateFactory(user__email=email)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    return campaign


def _message(email: str) -> CampaignMessage:
    return CampaignMessage.objects.get(email=email)


def test_a_campaign_sends_through_the_api_once_each(manager, postmark_api) -> None:
    _, sent = postmark_api
    campaign = _campaign_to(manager, "a@example.com", "b@example.com")
    assert run(campaign) == 2
    assert sorted(p["To"] for p in sent) == ["a@example.com", "b@example.com"]
    assert {m.status for m in CampaignMessage.objects.all()} == {"sent"}
    assert mail.outbox == []  # the API, not the test backend


def test_a_recipient_the_provider_refuses_fails_and_is_suppressed(manager, postmark_api) -> None:
    answers, _ = postmark_api
    answers["gone@example.com"] = [
        _response(422, POSTMARK_INACTIVE.replace(b"{email}", b"gone@example.com"))
    ]
    campaign = _campaign_to(manager, "gone@example.com", "ok@example.com")
    run(campaign)
    assert _message("gone@example.com").status == CampaignMessage.Status.FAILED
    assert _message("ok@example.com").status == CampaignMessage.Status.SENT
    assert Suppression.objects.get().email == "gone@example.com"


def test_a_provider_outage_is_retried_and_sends_once(manager, postmark_api) -> None:
    answers, sent = postmark_api
    answers["a@example.com"] = [_response(503, b'{"ErrorCode":100,"Message":"Maintenance"}')]
    campaign = _campaign_to(manager, "a@example.com")
    run(campaign)  # the failed send goes back to the queue and the next batch sends it
    row = _message("a@example.com")
    assert row.status == CampaignMessage.Status.SENT
    assert row.attempts == 1
    assert [p["To"] for p in sent] == ["a@example.com", "a@example.com"]  # tried, then sent


def test_no_answer_after_the_request_is_never_resent(manager, postmark_api) -> None:
    # The provider may have accepted it: sending again could reach the person twice.
    answers, sent = postmark_api
    answers["a@example.com"] = [requests.ReadTimeout("read timed out")]
    campaign = _campaign_to(manager, "a@example.com")
    run(campaign)
    run(campaign)
    row = _message("a@example.com")
    assert row.status == CampaignMessage.Status.SENT
    assert row.error.startswith("in doubt")
    assert len(sent) == 1


def test_a_connection_that_never_opened_is_retried(manager, postmark_api) -> None:
    answers, _ = postmark_api
    # What requests raises when the provider's host refuses the connection.
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")
    answers["a@example.com"] = [
        requests.ConnectionError(MaxRetryError(None, "/email", reason=refused))
    ]
    campaign = _campaign_to(manager, "a@example.com")
    run(campaign)
    row = _message("a@example.com")
    assert row.status == CampaignMessage.Status.SENT  # nothing reached the provider: resent
    assert row.attempts == 1


def test_after_a_bounce_the_next_campaign_skips_the_address(manager, provider) -> None:
    provider("postmark")
    factories.AdvocateFactory(user__email="bounce@example.com")
    factories.AdvocateFactory(user__email="fine@example.com")
    assert _post("postmark", POSTMARK_HARD_BOUNCE).status_code == 200
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign, connection=None)
    assert [m.to for m in mail.outbox] == [["fine@example.com"]]
    assert _message("bounce@example.com").status == CampaignMessage.Status.SKIPPED
