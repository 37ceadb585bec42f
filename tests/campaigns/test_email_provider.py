"""Email through a provider's HTTP API (django-anymail): its webhook turns hard bounces
and spam complaints into suppressions, and campaigns send through it without ever
sending one message twice.

Recorded exchanges: the webhook bodies and API answers below are the providers' own
examples as django-anymail's test suite records them (tests/test_postmark_webhooks.py and
tests/test_postmark_backend.py in
github.com/anymail/django-anymail, release 15.1), which copy Postmark's API documentation.
"""

from __future__ import annotations

import base64
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
            "WEBHOOK_SECRET": [SECRET],
        }

    return use


def _post(provider_name: str, body, *, auth: str | None = SECRET):
    headers = {}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client().post(
        URL.format(provider_name), data=json.dumps(body), content_type="application/json", **headers
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
