"""One batch of a campaign: claim it, then send it in groups with one commit per group."""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from urllib3.exceptions import NewConnectionError

from campaigns.models import Campaign, CampaignMessage, Suppression
from campaigns.sending import claim, render, smtp
from campaigns.services.suppressions import suppression_add
from core.models import ProgramSettings

logger = logging.getLogger(__name__)

# A task sends batches for at most this long, then hands over to a fresh task (short
# tasks: the visibility timeout and time limit stay far away, campaigns interleave).
TASK_BUDGET_SECONDS = 60


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retry: int = 0  # transient failures: the next batch waits (backoff)
    stopped: bool = False  # paused, cancelled, or nothing left to claim
    retry_in: float = 0
    failed_ids: list[int] = field(default_factory=list)


def campaign_send_next_batch(*, campaign_id: int, connection: Any = None) -> BatchResult:
    """Claim one batch and send it in groups, one SMTP connection per message of a group
    (see the ``campaigns.sending`` docstring). ``connection``: the first backend to use (tests)."""
    claimed_at, ids, seen = claim.claim_batch(campaign_id)
    result = BatchResult(claimed=len(ids))
    if claimed_at is None:
        result.stopped = True
        return result
    if not seen:
        claim.finish_if_done(campaign_id)
        result.stopped = True
        return result
    if not ids:
        return result  # the whole batch was skipped: on to the next one
    campaign = Campaign.objects.select_related("challenge").get(pk=campaign_id)
    program = ProgramSettings.load()
    # With each recipient's account: the language their message is written in.
    rows = CampaignMessage.objects.filter(pk__in=ids, claimed_at=claimed_at).select_related(
        "advocate__user"
    )
    messages = {m.pk: m for m in rows}
    for message in messages.values():
        message.campaign = campaign  # one campaign object (and its challenge) for all
    prepared = render.prepare_batch(
        campaign=campaign, messages=list(messages.values()), program=program
    )
    first = connection or get_connection()
    over_smtp = isinstance(first, SMTPBackend)
    # SMTP: a group is one message per connection (the "." of each waits for the group's
    # COMMIT). Other backends (console, locmem in tests) cannot hold a message back
    # unfinished: one message per commit, sent after it.
    size = smtp.smtp_connections() if over_smtp else 1
    backends = [first]
    # The claim is ours for CLAIM_STALE seconds: leave a wide margin, then hand back.
    deadline = time.monotonic() + claim.claim_stale_seconds() / 2
    remaining = [pk for pk in ids if pk in messages]
    clean = False
    try:
        if over_smtp:
            smtp.connection_open(first)
        else:
            first.open()
        while remaining and time.monotonic() <= deadline:
            group = [messages[pk] for pk in remaining[:size]]
            while over_smtp and len(backends) < len(group):
                backends.append(get_connection())
            del remaining[: len(group)]
            outcomes = _deliver_group(
                backends, over_smtp, campaign, group, program, claimed_at, prepared
            )
            for pk, outcome in outcomes.items():
                if outcome == "sent":
                    result.sent += 1
                elif outcome in ("retry", "broken"):
                    result.retry += 1
                elif outcome == "stop":
                    remaining.insert(0, pk)
            if "stop" in outcomes.values():
                result.stopped = True
                break
            if "broken" in outcomes.values():
                break  # a connection itself failed: hand the rest back, retry later
        clean = True
    finally:
        claim.release(remaining, claimed_at, campaign_id)
        for backend in backends:
            # After an unexpected error a connection may be inside a DATA section.
            smtp.close_quietly(backend) if clean else smtp.reset(backend)
    if result.retry:
        result.retry_in = min(600, 5 * 2 ** min(result.retry, 7))
    return result


def _deliver_group(
    backends: list[Any],
    over_smtp: bool,
    campaign: Campaign,
    group: list[CampaignMessage],
    program: ProgramSettings,
    claimed_at: datetime,
    prepared: render.Prepared | None,
) -> dict[int, str]:
    """Send a group with ONE commit: message pk -> "sent", "retry", "broken", "failed",
    "skip" (not ours) or "stop" (campaign no longer sending).

    SMTP: message i goes over ``backends[i]``, up to the end of its content (all but the
    final "."); the rows are marked sent in one statement, COMMITTED, and only then the
    final dots are written, all of them before any reply is read (``campaigns.sending``
    docstring, 2-3).
    """
    outcomes: dict[int, str] = {}
    ready: list[tuple[CampaignMessage, EmailMultiAlternatives, Any]] = []
    data: list[bytes] = []
    for message, backend in zip(
        group, backends if over_smtp else [backends[0]] * len(group), strict=False
    ):
        try:
            email = render.build_email(
                campaign=campaign, message=message, program=program, prepared=prepared
            )
            if over_smtp:
                data.append(render.email_bytes(email))
        except Exception as error:
            # Building is deterministic (template, placeholders, the kind's links): a retry
            # would fail the same way, so the row fails now, with the reason, and the group
            # goes on. Left "sending", it would be re-claimed and kill each worker in turn.
            logger.exception("campaign %s message %s could not be built", campaign.pk, message.pk)
            claim.record_failure(
                message.pk, claimed_at, f"could not build the email: {error}", permanent=True
            )
            outcomes[message.pk] = "failed"
            continue
        email.connection = backend
        ready.append((message, email, backend))
    if over_smtp and ready:
        errors = smtp.smtp_begin_all([(backend, email) for _, email, backend in ready], data)
        begun = []
        for (message, email, backend), problem in zip(ready, errors, strict=True):
            if problem is None:
                begun.append((message, email, backend))
            elif isinstance(problem, smtp.Refused):
                outcomes[message.pk] = _refused(message, claimed_at, problem, campaign)
            else:
                # Before the COMMIT: not sent, retry later.
                claim.record_failure(
                    message.pk, claimed_at, f"{type(problem).__name__}: {problem}", permanent=False
                )
                smtp.reset(backend)
                outcomes[message.pk] = "broken" if smtp.is_broken(problem) else "retry"
        ready = begun
    if not ready:
        return outcomes
    won = claim.mark_sent([message.pk for message, _, _ in ready], claimed_at)
    # COMMITTED as sent. Now, and only now, the server may accept them.
    if len(won) < len(ready):
        sending = Campaign.objects.filter(pk=campaign.pk, status=claim.SENDABLE).exists()
        for message, _, backend in ready:
            if message.pk not in won:
                # Taken over by another worker (its claim, its send), or the campaign
                # stopped: this server never gets the ".", and discards the message.
                outcomes[message.pk] = "skip" if sending else "stop"
                if over_smtp:
                    smtp.reset(backend)
    ready = [item for item in ready if item[0].pk in won]
    if over_smtp:
        # Every "." first, corked: each lands in its socket's send queue without going
        # out yet, so the window between the COMMIT and the last of them is these few
        # system calls. Uncorked one by one, the first "." would wake the SMTP server,
        # which on a busy machine takes the CPU from this process with the other dots
        # still unwritten, and a kill then loses them. Once queued, a "." leaves even
        # if the process dies: the kernel flushes on close.
        dotted = []
        smtp.cork([backend for _, _, backend in ready], on=True)
        for message, _, backend in ready:
            try:
                smtp.smtp_dot(backend.connection)
                dotted.append((message, backend))
            except smtp.Refused as error:
                outcomes[message.pk] = _refused(message, claimed_at, error, campaign)
            except (smtplib.SMTPException, OSError) as error:
                outcomes[message.pk] = _in_doubt(message, backend, error)
        smtp.cork([backend for _, backend in dotted], on=False)
        for message, backend in dotted:
            try:
                smtp.smtp_reply(backend.connection)
                outcomes[message.pk] = "sent"
            except smtp.Refused as error:
                outcomes[message.pk] = _refused(message, claimed_at, error, campaign)
            except (smtplib.SMTPException, OSError) as error:
                outcomes[message.pk] = _in_doubt(message, backend, error)
        claim.confirm_sent(
            [pk for pk, outcome in outcomes.items() if outcome == "sent"], claimed_at
        )
        return outcomes
    for message, email, backend in ready:
        try:
            backend.send_messages([email])
            outcomes[message.pk] = "sent"
        except AnymailError as error:
            outcomes[message.pk] = _provider_refused(message, claimed_at, error, campaign)
        except (smtplib.SMTPException, OSError) as error:
            claim.record_failure(
                message.pk, claimed_at, f"{type(error).__name__}: {error}", permanent=False
            )
            outcomes[message.pk] = "broken" if smtp.is_broken(error) else "retry"
    claim.confirm_sent([pk for pk, outcome in outcomes.items() if outcome == "sent"], claimed_at)
    return outcomes


def _refused(
    message: CampaignMessage, claimed_at: datetime, error: smtp.Refused, campaign: Campaign
) -> str:
    attempts = claim.record_failure(message.pk, claimed_at, str(error), permanent=error.permanent)
    logger.warning("campaign %s message %s refused: %s", campaign.pk, message.pk, error)
    return "failed" if error.permanent or attempts >= claim.MAX_ATTEMPTS else "retry"


def _provider_refused(
    message: CampaignMessage, claimed_at: datetime, error: AnymailError, campaign: Campaign
) -> str:
    """An email provider's HTTP API (``EMAIL_PROVIDER``) did not take the message.

    There is no final "." to hold back: the row was handed over (COMMITTED) before the
    request, so a provider that answered with an error did not accept the message, and
    it is retried (429, 5xx) or failed (any other answer: the request itself is wrong).
    A refused recipient fails and is suppressed. A request that got no answer may have
    been accepted: like an SMTP connection cut after the ".", it stays sent, marked in
    doubt, and is never sent again (providers' APIs have no idempotency key, so a
    resend could reach the person twice). Only a connection that never opened is
    retried, since nothing reached the provider.
    """
    if isinstance(error, AnymailRecipientsRefused):
        claim.record_failure(
            message.pk, claimed_at, f"refused by the provider: {error}", permanent=True
        )
        suppression_add(
            email=message.email, reason=Suppression.Reason.BOUNCED, detail=str(error)[:300]
        )
        return "failed"
    status = getattr(error, "status_code", None)
    cause = error.__cause__
    # requests wraps urllib3's MaxRetryError, whose reason says what happened: a
    # connection refused or unresolvable never sent a byte.
    reason = getattr(cause.args[0], "reason", None) if cause and cause.args else None
    never_connected = isinstance(cause, requests.ConnectTimeout) or (
        isinstance(cause, requests.ConnectionError) and isinstance(reason, NewConnectionError)
    )
    if status is None and not never_connected:
        CampaignMessage.objects.filter(pk=message.pk).update(
            error=f"in doubt, no answer from the provider: {error}"[:300]
        )
        return "sent"
    permanent = status is not None and status != 429 and status < 500
    attempts = claim.record_failure(
        message.pk, claimed_at, f"provider: {error}"[:300], permanent=permanent
    )
    logger.warning(
        "campaign %s message %s refused by the provider: %s", campaign.pk, message.pk, error
    )
    return "failed" if permanent or attempts >= claim.MAX_ATTEMPTS else "retry"


def _in_doubt(message: CampaignMessage, backend: Any, error: Exception) -> str:
    """No reply after the final "." (connection cut): in doubt, the row stays sent —
    never sent twice (the stable Message-ID lets a deduplicating relay absorb a resend)."""
    CampaignMessage.objects.filter(pk=message.pk).update(
        error=f"no reply after the end of data: {error}"[:300]
    )
    smtp.reset(backend)
    return "sent"


@dataclass
class SendRun:
    """What one batch task did: ``again`` asks for a fresh task, ``again_in`` seconds
    from now (0: at once)."""

    sent: int = 0
    again: bool = False
    again_in: float = 0


def campaign_send_batches(*, campaign_id: int, eager: bool) -> SendRun:
    """Send batches of one campaign for up to TASK_BUDGET_SECONDS, then ask for a fresh
    task. ``eager``: tasks run in-process (no broker), so nothing is handed over.

    Safe to run twice, or alongside other copies: each copy only sends rows it claimed.
    """
    deadline = time.monotonic() + TASK_BUDGET_SECONDS
    run = SendRun()
    while True:
        result = campaign_send_next_batch(campaign_id=campaign_id)
        run.sent += result.sent
        if result.stopped:
            return run
        if result.retry_in and not eager:
            run.again, run.again_in = True, result.retry_in
            return run
        if result.retry and eager and not result.sent:
            # In-process (no broker): no countdown to wait on; stop, beat resumes later.
            return run
        if not eager and time.monotonic() > deadline:
            run.again = True
            return run
