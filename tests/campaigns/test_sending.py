"""Sending campaigns: claims, skip rules, retries, pause/resume/cancel, exactly once.

Tasks run in-process here; ``transaction.on_commit`` callbacks do not fire inside a test's
transaction, so starting a campaign only queues its batches and each test runs them
itself (``run``), in the order it wants.
"""

from __future__ import annotations

import smtplib
import socket
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from advocates.models import Advocate
from campaigns import selectors
from campaigns.models import Campaign, CampaignMessage, Segment, Suppression
from campaigns.sending import batch, claim, render, smtp, tracking
from campaigns.services import campaigns as campaign_services
from core.models import AuditEntry, ProgramSettings
from tests import factories

pytestmark = pytest.mark.django_db


def make_campaign(**kwargs) -> Campaign:
    segment = kwargs.pop("segment", None) or Segment.objects.create(name="Everyone", filters={})
    values = {
        "name": "Spring drive",
        "kind": Campaign.Kind.REFERRAL_DRIVE,
        "segment": segment,
        "subject": "Hi {{ first_name }}",
        "body": "Hello {{ first_name }},\n\nShare {{ referral_link }} with a colleague.",
    }
    return Campaign.objects.create(**(values | kwargs))


def advocates(n: int, **kwargs) -> list[Advocate]:
    return [
        factories.AdvocateFactory(user__email=f"adv{i}-{kwargs.get('tag', 'a')}@example.com")
        for i in range(n)
    ]


def run(campaign: Campaign, connection=None) -> int:
    """Send batches until nothing is left to claim (what the task chain does)."""
    sent = 0
    for _ in range(1000):
        result = batch.campaign_send_next_batch(campaign_id=campaign.pk, connection=connection)
        sent += result.sent
        if result.stopped:
            return sent
    raise AssertionError("did not finish")


def per_recipient() -> Counter:
    return Counter(address for message in mail.outbox for address in message.to)


def status_of(campaign: Campaign) -> str:
    return Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)


def test_start_creates_one_message_per_active_advocate_and_sends_each_once(manager) -> None:
    people = advocates(5)
    factories.AdvocateFactory(status=Advocate.Status.INVITED)  # not in the segment
    campaign = make_campaign()

    total = campaign_services.campaign_start(campaign=campaign, actor=manager)

    assert total == 5
    assert status_of(campaign) == Campaign.Status.SENDING
    assert AuditEntry.objects.filter(action="campaign.start", actor=manager).count() == 1
    assert run(campaign) == 5
    assert per_recipient() == Counter({a.user.email: 1 for a in people})
    assert status_of(campaign) == Campaign.Status.SENT
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert "/u/" in message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["Message-ID"].startswith(f"<vouch.campaign-{campaign.pk}.")
    # Running the chain again (a redelivered task) sends nothing more.
    assert run(campaign) == 0
    assert len(mail.outbox) == 5


def test_starting_twice_starts_once(manager) -> None:
    advocates(2)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    with pytest.raises(campaign_services.CampaignStateError, match="already been started"):
        campaign_services.campaign_start(campaign=campaign, actor=manager)
    assert CampaignMessage.objects.filter(campaign=campaign).count() == 2


def test_suppressed_addresses_are_skipped_as_unsubscribed(manager) -> None:
    people = advocates(3)
    Suppression.objects.create(email=people[0].user.email, reason=Suppression.Reason.UNSUBSCRIBED)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    run(campaign)

    assert people[0].user.email not in per_recipient()
    assert len(mail.outbox) == 2
    skipped = CampaignMessage.objects.get(email=people[0].user.email)
    assert (skipped.status, skipped.skip_reason) == ("skipped", "unsubscribed")
    progress = selectors.campaign_progress(campaign.pk)
    assert (progress["sent"], progress["skipped_unsubscribed"], progress["percent"]) == (2, 1, 100)


def _sent_before(advocate: Advocate, *, days_ago: float, n: int) -> None:
    other = make_campaign(name="Earlier", segment=Segment.objects.create(name="x", filters={}))
    for i in range(n):
        CampaignMessage.objects.create(
            campaign=other if i == 0 else make_campaign(name=f"Earlier {i}"),
            advocate=advocate,
            email=advocate.user.email,
            status=CampaignMessage.Status.SENT,
            sent_at=timezone.now() - timedelta(days=days_ago),
        )


def test_fatigue_cap_skips_advocates_at_the_weekly_cap_and_counts_them(manager) -> None:
    settings_row = ProgramSettings.load()
    settings_row.fatigue_cap_per_week = 2
    settings_row.save()
    at_cap, under_cap, old_emails = advocates(3)
    _sent_before(at_cap, days_ago=2, n=2)
    _sent_before(under_cap, days_ago=2, n=1)
    _sent_before(old_emails, days_ago=8, n=3)  # older than 7 days: no longer counts
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    run(campaign)

    assert set(per_recipient()) == {under_cap.user.email, old_emails.user.email}
    skipped = CampaignMessage.objects.get(campaign=campaign, advocate=at_cap)
    assert skipped.skip_reason == CampaignMessage.SkipReason.FATIGUE
    assert selectors.campaign_progress(campaign.pk)["skipped_fatigue"] == 1
    # This campaign now counts too: the one under the cap is at it for the next one.
    follow_up = make_campaign(name="Follow-up")
    campaign_services.campaign_start(campaign=follow_up, actor=manager)
    mail.outbox.clear()
    run(follow_up)
    assert set(per_recipient()) == {old_emails.user.email}
    assert selectors.campaign_progress(follow_up.pk)["skipped_fatigue"] == 2


def test_claim_queries_do_not_grow_with_the_batch(manager) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ProgramSettings.load()
    counts = []
    for size in (3, 12):
        campaign = make_campaign(name=f"size {size}")
        people = advocates(size, tag=str(size))
        Suppression.objects.create(email=people[0].user.email, reason="unsubscribed")
        _sent_before(people[1], days_ago=1, n=2)
        campaign_services.campaign_start(campaign=campaign, actor=manager)
        with CaptureQueriesContext(connection) as queries:
            _, _claimed, seen = claim.claim_batch(campaign.pk)
        assert seen == Advocate.objects.filter(status=Advocate.Status.ACTIVE).count()
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_advocates_no_longer_active_are_skipped(manager) -> None:
    stays, leaves = advocates(2)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    Advocate.objects.filter(pk=leaves.pk).update(status=Advocate.Status.LEFT)

    run(campaign)

    assert set(per_recipient()) == {stays.user.email}
    assert selectors.campaign_progress(campaign.pk)["skipped_inactive"] == 1


def test_pause_stops_sending_and_resume_sends_the_rest_once(manager, monkeypatch) -> None:
    monkeypatch.setattr(claim, "BATCH_SIZE", 2)
    people = advocates(5)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    first = batch.campaign_send_next_batch(campaign_id=campaign.pk)
    assert first.sent == 2

    campaign_services.campaign_pause(campaign=campaign, actor=manager)
    assert run(campaign) == 0
    assert len(mail.outbox) == 2
    assert selectors.campaign_progress(campaign.pk)["pending"] == 3
    with pytest.raises(campaign_services.CampaignStateError):
        campaign_services.campaign_pause(campaign=campaign, actor=manager)

    campaign_services.campaign_resume(campaign=campaign, actor=manager)
    run(campaign)
    assert per_recipient() == Counter({a.user.email: 1 for a in people})
    assert status_of(campaign) == Campaign.Status.SENT
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"campaign.start", "campaign.pause", "campaign.resume"} <= actions


def test_a_worker_that_finds_its_campaign_paused_gives_its_claim_back(manager) -> None:
    advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    class PausingBackend(LocmemBackend):
        def send_messages(self, messages):
            sent = super().send_messages(messages)
            if len(mail.outbox) == 1:
                campaign_services.campaign_pause(campaign=campaign, actor=manager)
            return sent

    run(campaign, connection=PausingBackend())
    assert len(mail.outbox) == 1
    progress = selectors.campaign_progress(campaign.pk)
    assert (progress["sent"], progress["pending"], progress["in_flight"]) == (1, 2, 0)


def test_cancel_skips_what_was_not_sent(manager, monkeypatch) -> None:
    monkeypatch.setattr(claim, "BATCH_SIZE", 2)
    advocates(5)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    batch.campaign_send_next_batch(campaign_id=campaign.pk)

    skipped = campaign_services.campaign_cancel(campaign=campaign, actor=manager)

    assert skipped == 3
    assert run(campaign) == 0
    assert len(mail.outbox) == 2
    progress = selectors.campaign_progress(campaign.pk)
    assert (progress["sent"], progress["skipped_cancelled"]) == (2, 3)
    assert status_of(campaign) == Campaign.Status.CANCELLED
    with pytest.raises(campaign_services.CampaignStateError):
        campaign_services.campaign_resume(campaign=campaign, actor=manager)


class FlakyBackend(LocmemBackend):
    """Fails the first ``failures`` sends to ``address`` with an SMTP error."""

    def __init__(self, address: str, failures: int, error=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.address, self.failures = address, failures
        self.error = error or smtplib.SMTPRecipientsRefused({address: (451, b"try later")})

    def send_messages(self, messages):
        if self.failures and messages[0].to == [self.address]:
            self.failures -= 1
            raise self.error
        return super().send_messages(messages)


def test_an_smtp_error_retries_the_message_and_it_arrives_exactly_once(manager) -> None:
    people = advocates(3)
    flaky = people[1].user.email
    backend = FlakyBackend(flaky, failures=2)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    first = batch.campaign_send_next_batch(campaign_id=campaign.pk, connection=backend)
    assert (first.sent, first.retry) == (2, 1)
    assert first.retry_in > 0  # the chain waits before the next batch (backoff)
    row = CampaignMessage.objects.get(email=flaky)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "SMTPRecipientsRefused" in row.error

    run(campaign, connection=backend)

    assert per_recipient() == Counter({a.user.email: 1 for a in people})
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == ("sent", 2, "")  # two failed attempts
    assert status_of(campaign) == Campaign.Status.SENT


def test_a_message_that_keeps_failing_is_failed_after_max_attempts(manager) -> None:
    (person,) = advocates(1)
    backend = FlakyBackend(person.user.email, failures=100, error=OSError("connection refused"))
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    for _ in range(claim.MAX_ATTEMPTS + 2):
        batch.campaign_send_next_batch(campaign_id=campaign.pk, connection=backend)

    row = CampaignMessage.objects.get(campaign=campaign)
    assert (row.status, row.attempts) == ("failed", claim.MAX_ATTEMPTS)
    assert mail.outbox == []
    assert status_of(campaign) == Campaign.Status.SENT  # finished: nothing left to try
    assert selectors.campaign_progress(campaign.pk)["failed"] == 1


def test_a_message_whose_email_cannot_be_built_fails_alone_and_the_rest_are_sent(
    manager, monkeypatch
) -> None:
    broken, *others = advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    real = render.build_email

    def build(*, campaign, message, program, **kwargs):
        if message.email == broken.user.email:
            raise RuntimeError("no referral link")
        return real(campaign=campaign, message=message, program=program, **kwargs)

    monkeypatch.setattr(render, "build_email", build)

    run(campaign)

    row = CampaignMessage.objects.get(campaign=campaign, email=broken.user.email)
    assert row.status == "failed"
    assert "no referral link" in row.error
    assert per_recipient() == Counter({other.user.email: 1 for other in others})
    assert status_of(campaign) == Campaign.Status.SENT


def test_a_dead_workers_claim_is_taken_over_only_once_it_is_stale(manager, settings) -> None:
    settings.CAMPAIGN_CLAIM_STALE_SECONDS = 60
    people = advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    # A worker claims the batch and dies before sending anything.
    dead_claim, claimed, _ = claim.claim_batch(campaign.pk)
    assert len(claimed) == 3

    # A live claim is not touched by another worker.
    assert run(campaign) == 0
    assert mail.outbox == []

    CampaignMessage.objects.filter(campaign=campaign).update(
        claimed_at=timezone.now() - timedelta(seconds=61)
    )
    assert run(campaign) == 3
    assert per_recipient() == Counter({a.user.email: 1 for a in people})
    # The "dead" worker coming back to life cannot hand a message over with its old claim.
    message = CampaignMessage.objects.first()
    assert claim.mark_sent([message.pk], dead_claim) == set()
    assert len(mail.outbox) == 3


def test_dispatch_due_starts_scheduled_campaigns_once_and_rekicks_stalled_ones(
    manager, settings
) -> None:
    settings.CAMPAIGN_CLAIM_STALE_SECONDS = 60
    advocates(2)
    due = make_campaign(
        status=Campaign.Status.SCHEDULED, scheduled_at=timezone.now() - timedelta(minutes=1)
    )
    later = make_campaign(
        name="Later",
        status=Campaign.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(hours=1),
    )

    assert campaign_services.campaign_dispatch()["started"] == 1
    assert campaign_services.campaign_dispatch()["started"] == 0
    assert status_of(due) == Campaign.Status.SENDING
    assert status_of(later) == Campaign.Status.SCHEDULED
    assert CampaignMessage.objects.filter(campaign=due).count() == 2

    # Claimed by a worker that died: once stale, dispatch kicks the campaign again.
    claim.claim_batch(due.pk)
    assert campaign_services.campaign_dispatch()["kicked"] == 0
    CampaignMessage.objects.update(claimed_at=timezone.now() - timedelta(minutes=5))
    assert campaign_services.campaign_dispatch()["kicked"] == 1
    run(due)
    assert len(mail.outbox) == 2
    # Drained campaigns are marked sent by the next dispatch if no chain did it.
    Campaign.objects.filter(pk=due.pk).update(status=Campaign.Status.SENDING)
    assert campaign_services.campaign_dispatch()["finished"] == 1


def test_progress_is_one_query(manager, django_assert_num_queries) -> None:
    advocates(4)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    with django_assert_num_queries(1):
        progress = selectors.campaign_progress(campaign.pk)
    assert (progress["total"], progress["sent"], progress["percent"]) == (4, 4, 100)


def test_a_segment_campaign_without_a_segment_cannot_start(manager) -> None:
    campaign = make_campaign()
    campaign.segment = None
    campaign.save()
    with pytest.raises(campaign_services.CampaignStateError, match="segment"):
        campaign_services.campaign_start(campaign=campaign, actor=manager)
    assert status_of(campaign) == Campaign.Status.DRAFT


# --- The real SMTP path: the row commits before the final "." -----------------------


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    return smtp_sink


def test_smtp_delivers_each_message_once_with_its_headers(manager, smtp_settings) -> None:
    people = advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    assert run(campaign) == 3

    sink = smtp_settings
    assert Counter(m["To"] for m in sink.messages) == Counter(a.user.email for a in people)
    message = sink.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].startswith(f"<vouch.campaign-{campaign.pk}.message-")
    assert CampaignMessage.objects.filter(status="sent").count() == 3


def test_a_worker_dying_before_its_commit_sends_nothing_and_the_retry_sends_once(
    manager, smtp_settings, settings, monkeypatch
) -> None:
    """The SMTP server has the whole message but its final "." when the worker dies:
    the server discards it, the row keeps the dead claim, the next worker sends it once."""
    settings.CAMPAIGN_CLAIM_STALE_SECONDS = 60
    (person,) = advocates(1)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    from django.core.mail import get_connection

    class Killed(BaseException):
        pass

    backend = get_connection()

    def die(message_id, claimed_at):
        # The process is gone, and its socket with it (the kernel ends the connection).
        backend.connection.sock.shutdown(socket.SHUT_RDWR)
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(claim, "mark_sent", die)
        with pytest.raises(Killed):
            batch.campaign_send_next_batch(campaign_id=campaign.pk, connection=backend)

    import time

    time.sleep(0.3)
    assert smtp_settings.messages == []
    row = CampaignMessage.objects.get(campaign=campaign)
    assert row.status == CampaignMessage.Status.SENDING  # the dead worker's claim
    CampaignMessage.objects.update(claimed_at=timezone.now() - timedelta(minutes=5))

    assert run(campaign) == 1
    assert len(smtp_settings.wait_for(person.user.email)) == 1
    time.sleep(0.2)
    assert len(smtp_settings.messages) == 1


def test_a_refusal_at_the_end_of_data_puts_the_message_back(manager, smtp_settings, monkeypatch):
    (person,) = advocates(1)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    real_end = smtp.smtp_dot

    def refuse(conn):
        conn.sock.shutdown(socket.SHUT_RDWR)  # no "." was sent: the server discards it
        raise smtp.Refused("end of data 452 mailbox full", permanent=False)

    monkeypatch.setattr(smtp, "smtp_dot", refuse)
    batch.campaign_send_next_batch(campaign_id=campaign.pk)
    row = CampaignMessage.objects.get(campaign=campaign)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)

    monkeypatch.setattr(smtp, "smtp_dot", real_end)
    run(campaign)
    assert len(smtp_settings.wait_for(person.user.email)) == 1


# --- Throughput: batched lookups, one commit per group, the templates once per batch ---


def test_send_queries_do_not_grow_with_the_batch(manager, smtp_settings, settings) -> None:
    """A batch of 4 and one of 16 run the same number of SQL queries (one group each)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import kinds

    settings.CAMPAIGN_SMTP_CONNECTIONS = 25
    ProgramSettings.load()
    counts = []
    for size in (4, 16):
        people = advocates(size, tag=str(size))
        kinds.referral_links([a.pk for a in people])  # links exist, as they do for members
        campaign = make_campaign(name=f"size {size}")
        total = campaign_services.campaign_start(campaign=campaign, actor=manager)
        with CaptureQueriesContext(connection) as queries:
            result = batch.campaign_send_next_batch(campaign_id=campaign.pk)
        assert result.sent == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_group_is_handed_over_in_one_commit(manager, smtp_settings, settings, monkeypatch):
    settings.CAMPAIGN_SMTP_CONNECTIONS = 5
    people = advocates(12)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    calls = []
    real = claim.mark_sent

    def spy(message_ids, claimed_at):
        calls.append(len(message_ids))
        return real(message_ids, claimed_at)

    monkeypatch.setattr(claim, "mark_sent", spy)
    assert run(campaign) == 12
    assert calls == [5, 5, 2]
    assert len(smtp_settings.wait_for(people[-1].user.email)) == 1
    assert selectors.campaign_progress(campaign.pk)["sent"] == 12


def test_a_worker_dying_after_the_hand_over_never_sends_twice(
    manager, smtp_settings, settings, monkeypatch
) -> None:
    """Killed between the hand-over COMMIT and its "."s: the rows are not re-claimed
    (lost, never duplicated), and dispatch records them as sent, in doubt."""
    settings.CAMPAIGN_CLAIM_STALE_SECONDS = 60
    advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    class Killed(BaseException):
        pass

    def die(conn):
        conn.sock.shutdown(socket.SHUT_RDWR)  # the process is gone: no "." left
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(smtp, "smtp_dot", die)
        with pytest.raises(Killed):
            batch.campaign_send_next_batch(campaign_id=campaign.pk)
    CampaignMessage.objects.update(claimed_at=timezone.now() - timedelta(minutes=5))

    assert run(campaign) == 0  # handed over: nobody claims them again
    assert campaign_services.campaign_dispatch()["finished"] == 1
    rows = CampaignMessage.objects.filter(campaign=campaign)
    assert {(row.status, row.error) for row in rows} == {("sent", claim.IN_DOUBT)}
    import time

    time.sleep(0.2)
    assert smtp_settings.messages == []


def test_the_batch_rendering_is_the_per_message_rendering(manager, monkeypatch) -> None:
    # Both renderings sign their links with a timestamp: one frozen second for the signer,
    # so the two differ only if the renderings do.
    monkeypatch.setattr("django.core.signing.TimestampSigner.timestamp", lambda self: "1qP9Xs")
    advocates(2)
    campaign = make_campaign(
        body="Hi {{ first_name }} <b>&</b>\n\nShare {{ referral_link }} or read "
        "https://example.org/a?b=1&c=2.\n\nBye {{ unsubscribe_link }}"
    )
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    program = ProgramSettings.load()
    messages = list(CampaignMessage.objects.filter(campaign=campaign).select_related("campaign"))
    prepared = render.prepare_batch(campaign=campaign, messages=messages, program=program)
    for message in messages:
        alone = render.render_message(campaign=campaign, message=message, program=program)
        batched = render.render_message(
            campaign=campaign, message=message, program=program, prepared=prepared
        )
        assert batched == alone
        assert "/e/c/" in batched.html  # tracked links
        assert "&lt;b&gt;&amp;" in batched.html  # the manager's text escaped


def test_links_joined_around_the_token_are_what_reverse_gives() -> None:
    from django.conf import settings as django_settings
    from django.urls import reverse

    token = tracking.token_make("click", 123, "https://example.org/x?y=1")
    assert tracking.click_url(123, "https://example.org/x?y=1") == (
        django_settings.SITE_URL + reverse("campaigns:track_click", kwargs={"token": token})
    )


@pytest.mark.parametrize(
    "subject",
    ["Hi Zoë, your link", "plain ascii " * 12, "x" * 150 + " é"],
)
def test_the_smtp_bytes_carry_what_djangos_message_carries(subject) -> None:
    from email import message_from_bytes, policy

    from django.core.mail import EmailMultiAlternatives

    body = "Héllo\n\n.a line starting with a dot\nhttps://example.com/" + "a" * 1200 + "\nend "
    email = EmailMultiAlternatives(
        subject,
        body,
        to=["Zoë <zoe@exämple.com>"],
        headers={"Message-ID": "<m@vouch>", "List-Unsubscribe": "<https://x/u/t/>"},
    )
    email.attach_alternative("<p>Héllo " + "b" * 1500 + "</p>\n<p>.dot</p>", "text/html")
    raw = render.email_bytes(email)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    ours = message_from_bytes(raw, policy=policy.default)
    django = message_from_bytes(email.message().as_bytes(), policy=policy.default)
    for name in ("Subject", "From", "To", "Message-ID", "List-Unsubscribe", "MIME-Version"):
        assert str(ours[name]).strip() == str(django[name]).strip(), name
    for kind in ("plain", "html"):
        assert ours.get_body((kind,)).get_content().replace("\r\n", "\n") == (
            django.get_body((kind,)).get_content().replace("\r\n", "\n")
        )


def test_a_failed_batch_lookup_falls_back_to_one_message_at_a_time(manager, monkeypatch):
    from campaigns import kinds

    people = advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)

    def broken(messages):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(kinds, "messages_context", broken)
    assert run(campaign) == 3
    assert per_recipient() == Counter({a.user.email: 1 for a in people})
    assert all("/e/c/" in m.body for m in mail.outbox)  # each got its (tracked) referral link
