"""Slack notifications: the domain events every path emits, to the channel and the rep."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from werkzeug import Response

from integrations import tasks
from integrations.slack import notify
from integrations.slack.models import SlackInstallation
from referrals.services import referral_create
from tests import factories
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.integrations.conftest import answer, calls, recording


@pytest.fixture
def owned_advocate(rep):
    advocate = factories.AdvocateFactory(
        user__email="ada@example.com", user__first_name="Ada", user__last_name="Lovelace"
    )
    advocate.owner_rep = rep
    advocate.save()
    return advocate


def _refer(advocate, django_capture_on_commit_callbacks, company: str = "Initech"):
    with django_capture_on_commit_callbacks(execute=True):
        return referral_create(
            advocate_id=advocate.pk,
            method="lead_form",
            referred_name="Bill Lumbergh",
            referred_email=f"bill@{company.split()[0].lower()}.example",
            referred_company=company,
        )


def _slack_answers(server) -> None:
    answer(server, "users.lookupByEmail", "users.lookupByEmail")
    answer(server, "conversations.open", "conversations.open")
    answer(server, "chat.postMessage", "chat.postMessage")


def test_a_new_referral_goes_to_the_channel_and_to_the_owner_rep_by_dm(
    slack_api, installation, owned_advocate, rep, django_capture_on_commit_callbacks
) -> None:
    _slack_answers(slack_api)
    referral = _refer(owned_advocate, django_capture_on_commit_callbacks, company="Initech <HQ>")
    posts = calls(slack_api, "chat.postMessage")
    assert [post["channel"] for post in posts] == ["C1H9RESGL", "D069C7QFK"]
    for post in posts:
        assert "New referral from *Ada Lovelace*" in post["text"]
        assert "Initech &lt;HQ&gt;" in post["text"]  # user text cannot inject Slack markup
        button = post["blocks"][1]["elements"][0]
        assert button["url"] == f"http://127.0.0.1:8000/referrals/pipeline/{referral.pk}/"
    assert calls(slack_api, "users.lookupByEmail")[0]["email"] == rep.email
    assert calls(slack_api, "conversations.open")[0]["users"] == "W012A3CDE"


def test_nothing_is_sent_or_queued_without_a_connected_workspace(
    slack_api, db, owned_advocate, django_capture_on_commit_callbacks
) -> None:
    _refer(owned_advocate, django_capture_on_commit_callbacks)
    assert not slack_api.log


def test_a_rep_not_in_the_workspace_gets_no_dm_and_is_looked_up_once(
    slack_api, installation, owned_advocate, django_capture_on_commit_callbacks
) -> None:
    answer(slack_api, "users.lookupByEmail", "users.lookupByEmail.users_not_found")
    answer(slack_api, "chat.postMessage", "chat.postMessage")
    _refer(owned_advocate, django_capture_on_commit_callbacks)
    _refer(owned_advocate, django_capture_on_commit_callbacks, company="Initrode")
    assert [p["channel"] for p in calls(slack_api, "chat.postMessage")] == ["C1H9RESGL"] * 2
    assert len(calls(slack_api, "users.lookupByEmail")) == 1


def test_a_rate_limit_is_retried_after_slacks_retry_after_without_posting_twice(
    slack_api, installation, owned_advocate, rep, monkeypatch
) -> None:
    answer(slack_api, "users.lookupByEmail", "users.lookupByEmail")
    answer(slack_api, "conversations.open", "conversations.open")
    # The channel's message goes out, the DM is rate limited once, then goes out.
    answers = iter(
        [
            Response(
                json.dumps(recording("chat.postMessage")), 200, content_type="application/json"
            ),
            Response(
                json.dumps(recording("ratelimited")),
                429,
                headers={"retry-after": "1"},
                content_type="application/json;charset=utf-8",
            ),
            Response(
                json.dumps(recording("chat.postMessage")), 200, content_type="application/json"
            ),
        ]
    )
    slack_api.expect_request("/api/chat.postMessage").respond_with_handler(lambda _r: next(answers))
    waits: list[int] = []
    retry = tasks.slack_event_notify.retry

    def spy(*args, **kwargs):
        waits.append(kwargs["countdown"])
        return retry(*args, **kwargs)

    monkeypatch.setattr(tasks.slack_event_notify, "retry", spy)
    item = {"referral": 1, "advocate": owned_advocate.pk, "owner_rep": rep.pk, "stage": "submitted"}
    # In-process, a retry runs at once (Celery's eager mode); a worker waits ``countdown``.
    result = tasks.slack_event_notify.apply(args=["referral.created", [item]], throw=False)
    assert result.get() == 1  # the retry sent the one message left
    assert waits == [1]  # Slack's Retry-After, not our backoff
    channels = [post["channel"] for post in calls(slack_api, "chat.postMessage")]
    assert channels == ["C1H9RESGL", "D069C7QFK", "D069C7QFK"]  # the channel once


def test_a_server_error_is_retried_with_backoff(slack_api, installation) -> None:
    slack_api.expect_oneshot_request("/api/chat.postMessage").respond_with_data(
        "<html>Server Error | Slack</html>", status=503, content_type="text/html"
    )
    answer(slack_api, "chat.postMessage", "chat.postMessage")
    item = {"ask": 5, "request": 9, "advocate": 0, "rep": None, "prospect_company": "Hooli"}
    result = tasks.slack_event_notify.apply(args=["reference.ask_accepted", [item]], throw=False)
    assert result.get() == 1
    assert len(calls(slack_api, "chat.postMessage")) == 2


def test_a_revoked_token_marks_the_installation_broken_and_the_console_says_so(
    slack_api, installation, owned_advocate, django_capture_on_commit_callbacks, manager_client
) -> None:
    answer(slack_api, "chat.postMessage", "invalid_auth")
    _refer(owned_advocate, django_capture_on_commit_callbacks)
    installation.refresh_from_db()
    assert installation.status == SlackInstallation.Status.BROKEN
    assert installation.broken_reason == "invalid_auth"
    assert len(calls(slack_api, "chat.postMessage")) == 1  # not retried, nothing more sent
    page = manager_client.get("/console/slack/").content.decode()
    assert "Needs reinstalling" in page
    assert "Slack refused Vouch's token (invalid_auth)" in page
    # And the next event is not even queued.
    _refer(owned_advocate, django_capture_on_commit_callbacks, company="Initrode")
    assert len(calls(slack_api, "chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("event_type", "says"),
    [
        (
            "reference.ask_accepted",
            ":white_check_mark: *Ada Lovelace* accepted a reference call with *Hooli*.",
        ),
        (
            "reference.call_completed",
            ":telephone_receiver: Reference call done: *Ada Lovelace* with *Hooli*.",
        ),
    ],
)
def test_reference_events_reach_the_channel_and_the_requesting_rep(
    slack_api, installation, owned_advocate, rep, event_type, says
) -> None:
    _slack_answers(slack_api)
    item = {
        "ask": 5,
        "request": 9,
        "advocate": owned_advocate.pk,
        "advocate_email": "ada@example.com",
        "rep": rep.pk,
        "prospect_company": "Hooli",
    }
    assert notify.event_notify(event_type=event_type, items=[item]) == 2
    posts = calls(slack_api, "chat.postMessage")
    assert [post["text"] for post in posts] == [says, says]
    assert "/references/requests/9/" in posts[0]["blocks"][1]["elements"][0]["url"]


def test_an_import_of_many_referrals_is_one_summary_and_no_dms(
    slack_api, installation, owned_advocate, rep
) -> None:
    answer(slack_api, "chat.postMessage", "chat.postMessage")
    items = [
        {
            "referral": n,
            "advocate": owned_advocate.pk,
            "owner_rep": rep.pk,
            "stage": "submitted",
            "method": "verbal",
        }
        for n in range(1, 8)
    ]
    assert notify.event_notify(event_type="referral.created", items=items) == 1
    (post,) = calls(slack_api, "chat.postMessage")
    assert post["channel"] == "C1H9RESGL"
    assert "7 new referrals" in post["text"]


def test_the_pending_reviews_digest_goes_out_once_a_day(slack_api, installation, advocate) -> None:
    answer(slack_api, "chat.postMessage", "chat.postMessage")
    challenge = ChallengeFactory(title="Review us")
    SubmissionFactory(challenge=challenge, advocate=advocate)
    SubmissionFactory(challenge=challenge, advocate=advocate)
    today = date(2026, 12, 3)
    assert notify.digest_send(today=today) == 1
    assert notify.digest_send(today=today) == 0  # a second beat, or a retry, sends nothing
    (post,) = calls(slack_api, "chat.postMessage")
    assert "*2* challenge submissions waiting for review" in post["text"]
    assert post["blocks"][1]["elements"][0]["url"] == "http://127.0.0.1:8000/console/review/"
    assert notify.digest_send(today=today + timedelta(days=1)) == 1


def test_no_digest_when_nothing_waits(slack_api, installation) -> None:
    assert notify.digest_send() == 0
    assert not slack_api.log
