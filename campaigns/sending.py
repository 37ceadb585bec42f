"""Sending campaigns: one message row per recipient, claimed by workers in batches.

Lifecycle of a campaign: draft/scheduled → ``campaign_start`` (status "sending": one
``CampaignMessage`` per recipient, created set-wise, then a few batch tasks are enqueued)
→ workers run ``campaign_send_batch`` until the queue is empty → "sent". A manager can
pause (workers stop after the message in hand), resume and cancel (pending rows are
skipped). ``campaigns_dispatch_due`` (beat, every minute) starts scheduled campaigns whose
time has come and re-kicks sending campaigns that stalled (a worker died, a task was lost).

Life of a message row::

    pending ──claim (batch, FOR UPDATE SKIP LOCKED)──▶ sending ──hand over (sent_at)──▶ sent
       ▲        └─▶ skipped (unsubscribed / fatigue / inactive)      │         (250 to ".")
       └──── SMTP error, attempts+1 (failed after MAX_ATTEMPTS) ◀────┘ (refused at "."

Exactly once, and where it can break (README, "Celery")
-------------------------------------------------------
1. *Claim.* A worker takes up to ``BATCH_SIZE`` rows that are pending, or "sending" with
   a claim older than ``CAMPAIGN_CLAIM_STALE_SECONDS`` (its worker died) and not handed
   over (``sent_at`` empty), with ``SELECT ... FOR UPDATE SKIP LOCKED``, applies the skip
   rules to the batch set-wise, and stamps the rest ``status=sending, claimed_at=<its own
   timestamp>``; then COMMITs. The timestamp is the claim's identity: a row re-claimed by
   another worker carries a new one.
2. *Send in groups, one short transaction per group* (group commit). The worker keeps
   ``CAMPAIGN_SMTP_CONNECTIONS`` (default 10) SMTP connections open and puts one message
   of the group on each, up to the end of its content — MAIL, RCPT, DATA and the body,
   everything except the final ``"."`` (each command goes out on every connection before
   any reply is read). Then, in ONE transaction, it locks the group's rows that are still
   "sending" with *its* claim while the campaign is still sending, stamps them
   ``sent_at`` ("handed over": from here on no claim takes them again) and COMMITs; only
   then it writes the ``".\r\n"`` of each of those messages, all of them before reading
   any reply; a row it did not win gets no "." (the server discards that message). Each
   message answered 250 becomes ``status=sent`` (one UPDATE for the group).
3. *A worker killed (SIGKILL) at any point*:
   - before the COMMIT of step 2: the rows are still "sending" with the dead claim and
     no ``sent_at``; the SMTP server got messages without their final ``"."`` (the
     connections die with the process), which it discards. The rows become re-claimable
     when the claim is stale and are sent once by the next worker.
   - after it: the rows are handed over, never claimed again. The dots follow the COMMIT
     in the same thread, with no network round trip in between, written while the
     sockets are corked (TCP_CORK), so writing them wakes nobody up; data queued on a
     socket before the kill is still sent by the kernel, so the server accepts them.
     Beat's dispatch marks a handed-over row whose claim went stale "sent", with
     ``IN_DOUBT`` in its ``error``.
   The only window is between the COMMIT returning and the last ``send(".\r\n")``:
   a few system calls in one process, out of tens of milliseconds per group. A kill landing
   exactly there loses the messages of that group whose dot was not yet queued — at
   most one group (``CAMPAIGN_SMTP_CONNECTIONS`` messages; set it to 1 for at most one
   message, at about a tenth of the speed) per killed worker, never a duplicate, and the
   rows say so. Sending first and committing after would turn that window into
   duplicates instead, and widen it by a whole SMTP round trip. (One commit per message
   took about 4 ms each on the bench machine, with its fsync: a cap per worker.)
4. *Two workers never send one row*: the hand-over of step 2 only takes rows still
   carrying this worker's claim, under the row lock a re-claim also needs; so a claim
   and a hand-over serialise, and a worker whose claim was taken over finds its
   timestamp gone, writes no "." and moves on.
5. *Celery redelivery* (acks_late + reject_on_worker_lost): a redelivered batch task is
   just another claimer; it can only send rows that are pending or stale. Tasks carry a
   campaign id only.

Throughput (bench/campaign.py): per batch, the kind's values (referral links) are read
in O(1) queries and the two templates are rendered once with markers; per message only
strings are joined and the MIME text is written directly (``email_bytes``). Sockets
run with TCP_NODELAY: otherwise the "." behind the body waited 40 ms for a delayed ACK.

Every message also has a stable ``Message-ID`` (campaign and message ids), so in the
rare case above where an SMTP server's reply never came back (connection cut after the
``"."``), a relay or mailbox that deduplicates on Message-ID could absorb a resend; we
do not resend such a message (its row stays sent, its ``error`` says why).

Fatigue cap: counted per batch in one query over ``CampaignMessage.sent_at`` (rows sent
in the last 7 days plus rows in flight in other campaigns). Two campaigns claiming the
same advocate in the very same instant may both see them under the cap: a soft limit
by one email at most, accepted rather than locking advocates across campaigns.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import logging
import re
import secrets
import smtplib
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate, make_msgid
from itertools import islice
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import DNS_NAME, forbid_multi_line_headers, sanitize_address
from django.db import transaction
from django.db.models import Count, Max, Q
from django.template.loader import render_to_string
from django.urls import get_urlconf, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from campaigns import placeholders
from campaigns.models import Campaign, CampaignMessage, Suppression
from core.audit import audit_record
from core.models import ProgramSettings

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
CREATE_CHUNK = 2000
MAX_ATTEMPTS = 5
# A task sends batches for at most this long, then hands over to a fresh task (short
# tasks: the visibility timeout and time limit stay far away, campaigns interleave).
TASK_BUDGET_SECONDS = 60
TOKEN_SALTS = {
    "unsubscribe": "campaigns.unsubscribe.v1",
    "open": "campaigns.open.v1",
    "click": "campaigns.click.v1",
}
SENDABLE = Campaign.Status.SENDING
ACTIVE = (Campaign.Status.SENDING, Campaign.Status.PAUSED)


class CampaignStateError(Exception):
    """The campaign is not in a state that allows this (message says why)."""


def claim_stale_seconds() -> int:
    return int(getattr(settings, "CAMPAIGN_CLAIM_STALE_SECONDS", 600))


def send_parallelism() -> int:
    return int(getattr(settings, "CAMPAIGN_SEND_PARALLELISM", 4))


# --- Signed links in every email --------------------------------------------------------


def token_make(purpose: str, message_id: int, url: str = "") -> str:
    payload: dict[str, Any] = {"m": message_id}
    if url:
        payload["u"] = url
    return signing.dumps(payload, salt=TOKEN_SALTS[purpose], compress=True)


def token_read(purpose: str, token: str) -> tuple[int, str] | None:
    """(message id, url) from a token of ``purpose``; None when forged or malformed.

    No expiry: an unsubscribe link must keep working for as long as the email exists.
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALTS[purpose])
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("m"), int):
        return None
    url = payload.get("u", "")
    return payload["m"], url if isinstance(url, str) else ""


@functools.lru_cache(maxsize=16)
def _link_around(name: str, site_url: str, urlconf: str | None) -> tuple[str, str]:
    """The absolute URL of ``name`` around its token, reversed once per process.

    reverse() per link was a tenth of the time per email; a token (URL-safe base64 and
    ":") comes out of reverse() unchanged, so joining the two halves around it is the same
    URL (tests/campaigns/test_sending.py checks it).
    """
    url = site_url + reverse(name, kwargs={"token": "TOKEN"}, urlconf=urlconf)
    head, _, tail = url.rpartition("TOKEN")
    return head, tail


def _link(name: str, token: str) -> str:
    head, tail = _link_around(name, settings.SITE_URL, get_urlconf())
    return f"{head}{token}{tail}"


def unsubscribe_url(message_id: int) -> str:
    return _link("campaigns:unsubscribe", token_make("unsubscribe", message_id))


def open_pixel_url(message_id: int) -> str:
    return _link("campaigns:track_open", token_make("open", message_id))


def click_url(message_id: int, url: str) -> str:
    return _link("campaigns:track_click", token_make("click", message_id, url))


# --- Rendering one email ----------------------------------------------------------------


def recipient_values(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program_name: str,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Every placeholder's value for one message (the kind adds its own).

    ``extra``: the kind's values for this message, when the batch looked them up already
    (``prepare_batch``); otherwise they are looked up here, one message at a time.
    """
    from campaigns import kinds

    values = {
        "first_name": message.first_name or "there",
        "last_name": message.last_name,
        "program_name": program_name,
        "referral_link": "",
        "challenge_link": "",
        "unsubscribe_link": unsubscribe_url(message.pk) if message.pk else "",
    }
    used = placeholders.used_placeholders(campaign.subject) | placeholders.used_placeholders(
        campaign.body
    )
    if extra is not None:
        pass
    elif message.pk is None and campaign.kind == Campaign.Kind.INVITATION:
        # A preview must not create a real invitation.
        extra = {"invitation_link": settings.SITE_URL + "/join/…/"}
    else:
        extra = kinds.message_context(message)
    values.update({k: str(v) for k, v in extra.items()})
    if "referral_link" in used and not values["referral_link"] and message.advocate_id:
        values["referral_link"] = kinds.referral_link(message.advocate_id)
    if "challenge_link" in used and not values["challenge_link"] and campaign.challenge_id:
        values["challenge_link"] = settings.SITE_URL + reverse(
            "challenges:detail", kwargs={"pk": campaign.challenge_id}
        )
    return values


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    unsubscribe_url: str
    body_html: str = ""


# The per-message parts of the two email templates. A batch renders each template once
# with these markers in their place and splits the result on them; each message then
# only joins strings. (Rendering both templates per message, with the branding tag's
# settings lookup, was a third of the time per email.) The markers cannot come from a
# manager's text: the message's values are joined in, never scanned for markers.
_SLOT = "vouch-slot-7f3c9e"
_SLOTS = {name: f"{_SLOT}-{name}" for name in ("body_html", "body_text", "unsubscribe", "pixel")}
_SLOT_SPLIT = re.compile("(" + "|".join(re.escape(m) for m in _SLOTS.values()) + ")")


@dataclass
class _Shell:
    """One template rendered with markers, split into constant text and slot names."""

    parts: list[str]

    @classmethod
    def render(cls, template: str, context: dict[str, Any]) -> _Shell:
        by_marker = {marker: name for name, marker in _SLOTS.items()}
        pieces = _SLOT_SPLIT.split(render_to_string(template, context))
        # Odd positions are the markers (re.split keeps the captured separators).
        return cls([by_marker[p] if i % 2 else p for i, p in enumerate(pieces)])

    def fill(self, values: dict[str, str]) -> str:
        return "".join(values[p] if i % 2 else p for i, p in enumerate(self.parts))


@dataclass
class Prepared:
    """What a batch of messages shares, looked up once per claim (``prepare_batch``)."""

    extra: dict[int, dict[str, str]]  # message pk -> the kind's placeholder values
    text: _Shell
    html: _Shell  # tracked (with the open pixel)


def _shells(program: ProgramSettings, *, pixel: bool) -> tuple[_Shell, _Shell]:
    context = {
        "program_name": program.display_name,
        "body_html": mark_safe(_SLOTS["body_html"]),  # a constant marker
        "body_text": _SLOTS["body_text"],
        "unsubscribe_url": _SLOTS["unsubscribe"],
        "pixel_url": _SLOTS["pixel"] if pixel else "",
        "brand_color": program.primary_color,
    }
    return (
        _Shell.render("emails/campaign.txt", context),
        _Shell.render("emails/campaign.html", context),
    )


def prepare_batch(
    *, campaign: Campaign, messages: list[CampaignMessage], program: ProgramSettings
) -> Prepared:
    """The batch's shared lookups: the kind's values in O(1) queries, the templates once."""
    from campaigns import kinds

    try:
        extra = kinds.messages_context(messages)
    except Exception:
        # Each message then looks its values up itself, inside its own build, where an
        # error fails that message alone (a batch-wide error would leave every row of the
        # batch claimed, and each worker that re-claims it would fail the same way).
        logger.exception("campaign %s: batch lookups failed, one message at a time", campaign.pk)
        extra = {}
    text, html = _shells(program, pixel=True)
    return Prepared(extra=extra, text=text, html=html)


def render_message(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program: ProgramSettings,
    track: bool = True,
    prepared: Prepared | None = None,
) -> Rendered:
    """The subject, plain-text and HTML bodies of one message (``track``: tracked links).

    ``prepared``: the batch's shared lookups (sending); without it, everything is looked
    up for this one message (previews).
    """
    values = recipient_values(
        campaign=campaign,
        message=message,
        program_name=program.display_name,
        extra=prepared.extra.get(message.pk) if prepared else None,
    )
    unsubscribe = values["unsubscribe_link"]
    subject = " ".join(placeholders.render_text(campaign.subject, values).split())
    body = placeholders.render_text(campaign.body, values)
    tracked = track and bool(message.pk)

    links: dict[str, str] = {}

    def link(url: str) -> str:
        # The unsubscribe link and our own tracking links go out as they are.
        if not tracked or url == unsubscribe:
            return url
        if url not in links:  # the HTML and the text part share each signed link
            links[url] = click_url(message.pk, url)
        return links[url]

    body_html = placeholders.text_to_html(body, link=link)
    body_text = placeholders.track_links_in_text(body, link)
    pixel = open_pixel_url(message.pk) if tracked else ""
    if prepared is not None and pixel:
        slots = {
            "body_html": body_html,
            "body_text": body_text,
            "unsubscribe": unsubscribe,
            "pixel": pixel,
        }
        text = prepared.text.fill(slots)
        # Autoescaping, as the template does for plain strings.
        html = prepared.html.fill(
            slots | {"unsubscribe": escape(unsubscribe), "pixel": escape(pixel)}
        )
    else:
        context = {
            "program_name": program.display_name,
            "body_html": body_html,
            "body_text": body_text,
            "unsubscribe_url": unsubscribe,
            "pixel_url": pixel,
            "brand_color": program.primary_color,
        }
        text = render_to_string("emails/campaign.txt", context)
        html = render_to_string("emails/campaign.html", context)
    return Rendered(
        subject=subject, text=text, html=html, unsubscribe_url=unsubscribe, body_html=body_html
    )


def _message_id(message: CampaignMessage) -> str:
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "vouch"
    return f"<vouch.campaign-{message.campaign_id}.message-{message.pk}@{domain}>"


def build_email(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program: ProgramSettings,
    prepared: Prepared | None = None,
) -> EmailMultiAlternatives:
    rendered = render_message(
        campaign=campaign, message=message, program=program, prepared=prepared
    )
    email = EmailMultiAlternatives(
        rendered.subject,
        rendered.text,
        to=[message.email],
        headers={
            "Message-ID": _message_id(message),
            # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs.
            "List-Unsubscribe": f"<{rendered.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Vouch-Campaign": str(campaign.pk),
        },
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


# --- Starting, pausing, resuming, cancelling --------------------------------------------


def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _recipient_rows(campaign: Campaign):
    """(advocate id, email, first, last, context) for every recipient, streamed."""
    from campaigns import kinds, segments

    custom = kinds.audience(campaign)
    if custom is not None:
        for recipient in custom:
            yield (
                recipient.advocate_id,
                recipient.email,
                recipient.first_name,
                recipient.last_name,
                recipient.context,
            )
        return
    if campaign.segment_id is None:
        return
    advocates = (
        segments.segment_advocates(campaign.segment.filters)
        .order_by()
        .values_list("pk", "user__email", "user__first_name", "user__last_name")
    )
    for pk, email, first, last in advocates.iterator(chunk_size=CREATE_CHUNK):
        yield pk, email, first, last, {}


def _messages_create(campaign: Campaign) -> int:
    """One pending row per recipient (set-wise, in chunks; re-running adds nothing)."""
    now = timezone.now()
    for chunk in _chunks(_recipient_rows(campaign), CREATE_CHUNK):
        CampaignMessage.objects.bulk_create(
            [
                CampaignMessage(
                    campaign_id=campaign.pk,
                    advocate_id=advocate_id,
                    email=(email or "").strip().lower(),
                    first_name=(first or "")[:150],
                    last_name=(last or "")[:150],
                    context=context or {},
                    created_at=now,
                )
                for advocate_id, email, first, last, context in chunk
                if email
            ],
            ignore_conflicts=True,  # one message per (campaign, email): the constraint decides
        )
    return CampaignMessage.objects.filter(campaign_id=campaign.pk).count()


def _enqueue_batches(campaign_id: int, count: int) -> None:
    """Run ``count`` batch chains for the campaign once the transaction commits."""
    try:
        # Survives a Redis outage: the intent is written with the transaction.
        from core.outbox import enqueue_after_commit
    except ImportError:  # pragma: no cover - the outbox lands with the reliability work

        def enqueue_after_commit(task, *args):
            transaction.on_commit(lambda: task.delay(*args))

    for _ in range(max(1, count)):
        enqueue_after_commit(campaign_send_batch, campaign_id)


def start_problems(campaign: Campaign) -> list[str]:
    """Why the campaign cannot start as it is ([] when it can)."""
    from campaigns import kinds

    problems = []
    for text in (campaign.subject, campaign.body):
        problems += placeholders.placeholder_errors(text, kind=campaign.kind)
    kind_problems = getattr(kinds, "kind_problems", None)
    if kind_problems is not None:
        problems += kind_problems(
            kind=campaign.kind,
            body=campaign.body,
            subject=campaign.subject,
            challenge=campaign.challenge,
            campaign=campaign,
        )
    if kinds.audience(campaign) is None:
        if campaign.segment_id is None:
            problems.append("Choose the segment to send to.")
        else:
            from campaigns import segments

            try:
                segments.segment_advocates(campaign.segment.filters)
            except _segment_error() as error:
                problems.append(f"The segment's filter is not valid: {error}")
    return problems


def _segment_error() -> type[Exception]:
    from campaigns import segments

    return getattr(segments, "SegmentFilterError", ValueError)


def campaign_start(*, campaign: Campaign, actor: Any) -> int:
    """Start sending now (draft or scheduled → sending); returns the number of recipients.

    The status flip is a conditional update, so two starts (a double click, beat racing a
    manager) start the campaign once; the loser gets ``CampaignStateError``.
    """
    problems = start_problems(campaign)
    if problems:
        raise CampaignStateError(" ".join(problems))
    now = timezone.now()
    with transaction.atomic():
        won = Campaign.objects.filter(
            pk=campaign.pk, status__in=(Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
        ).update(status=Campaign.Status.SENDING, started_at=now, updated_at=now)
        if not won:
            raise CampaignStateError("This campaign has already been started.")
        try:
            total = _messages_create(campaign)
        except _segment_error() as error:
            raise CampaignStateError(f"The segment's filter is not valid: {error}") from error
        audit_record(
            actor=actor, action="campaign.start", target=campaign, detail={"recipients": total}
        )
        chains = min(send_parallelism(), -(-total // BATCH_SIZE)) if total else 1
        _enqueue_batches(campaign.pk, chains)
    campaign.status, campaign.started_at = Campaign.Status.SENDING, now
    return total


def campaign_schedule(*, campaign: Campaign, at: datetime, actor: Any) -> None:
    with transaction.atomic():
        won = Campaign.objects.filter(
            pk=campaign.pk, status__in=(Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
        ).update(status=Campaign.Status.SCHEDULED, scheduled_at=at, updated_at=timezone.now())
        if not won:
            raise CampaignStateError("Only a draft can be scheduled.")
        audit_record(
            actor=actor, action="campaign.schedule", target=campaign, detail={"at": at.isoformat()}
        )
    campaign.status, campaign.scheduled_at = Campaign.Status.SCHEDULED, at


def campaign_pause(*, campaign: Campaign, actor: Any) -> None:
    """Stop sending after the messages in hand; claimed rows go back to pending."""
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.PAUSED, updated_at=timezone.now()
        ):
            raise CampaignStateError("Only a campaign that is sending can be paused.")
        audit_record(actor=actor, action="campaign.pause", target=campaign)
    campaign.status = Campaign.Status.PAUSED


def campaign_resume(*, campaign: Campaign, actor: Any) -> None:
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.PAUSED).update(
            status=Campaign.Status.SENDING, updated_at=timezone.now()
        ):
            raise CampaignStateError("Only a paused campaign can be resumed.")
        audit_record(actor=actor, action="campaign.resume", target=campaign)
        _enqueue_batches(campaign.pk, send_parallelism())
    campaign.status = Campaign.Status.SENDING


def campaign_cancel(*, campaign: Campaign, actor: Any) -> int:
    """Cancel: nothing more is sent; pending rows are skipped ("cancelled"). Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        if not Campaign.objects.filter(
            pk=campaign.pk,
            status__in=(
                Campaign.Status.DRAFT,
                Campaign.Status.SCHEDULED,
                Campaign.Status.SENDING,
                Campaign.Status.PAUSED,
            ),
        ).update(status=Campaign.Status.CANCELLED, finished_at=now, updated_at=now):
            raise CampaignStateError("This campaign has already finished.")
        stale = now - timedelta(seconds=claim_stale_seconds())
        # Rows a live worker holds are released by it (it sees the campaign cancelled).
        skipped = (
            CampaignMessage.objects.filter(campaign_id=campaign.pk)
            .filter(
                Q(status=CampaignMessage.Status.PENDING)
                | Q(status=CampaignMessage.Status.SENDING, claimed_at__lt=stale, sent_at=None)
            )
            .update(
                status=CampaignMessage.Status.SKIPPED,
                skip_reason=CampaignMessage.SkipReason.CANCELLED,
                claimed_at=None,
            )
        )
        audit_record(
            actor=actor, action="campaign.cancel", target=campaign, detail={"skipped": skipped}
        )
    campaign.status = Campaign.Status.CANCELLED
    return skipped


# --- Claiming a batch ---------------------------------------------------------------------


def _over_cap(advocate_ids: list[int], campaign_id: int, now: datetime) -> set[int]:
    """Advocates at the weekly cap: one grouped query for the whole batch."""
    cap = ProgramSettings.load().fatigue_cap_per_week
    if not advocate_ids:
        return set()
    counts = (
        CampaignMessage.objects.filter(advocate_id__in=advocate_ids)
        .filter(
            Q(status=CampaignMessage.Status.SENT, sent_at__gte=now - timedelta(days=7))
            # In flight in another campaign right now: about to count.
            | Q(status=CampaignMessage.Status.SENDING) & ~Q(campaign_id=campaign_id)
        )
        .values("advocate_id")
        .annotate(n=Count("id"))
        .filter(n__gte=cap)
        .values_list("advocate_id", flat=True)
    )
    if cap == 0:
        return set(advocate_ids)
    return set(counts)


def _claim(campaign_id: int) -> tuple[datetime | None, list[int], int]:
    """Claim up to BATCH_SIZE rows; skip those the rules exclude. Commits before returning."""
    from advocates.models import Advocate

    now = timezone.now()
    stale = now - timedelta(seconds=claim_stale_seconds())
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign_id, status=SENDABLE).exists():
            return None, [], 0
        rows = list(
            CampaignMessage.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id)
            .filter(
                Q(status=CampaignMessage.Status.PENDING)
                | Q(status=CampaignMessage.Status.SENDING, claimed_at__lt=stale, sent_at=None)
            )
            .order_by("id")
            .values_list("id", "email", "advocate_id")[:BATCH_SIZE]
        )
        if not rows:
            return now, [], 0
        emails = {email.lower() for _, email, _ in rows}
        suppressed = set(
            Suppression.objects.filter(email__in=emails).values_list("email", flat=True)
        )
        advocate_ids = [advocate_id for _, _, advocate_id in rows if advocate_id]
        inactive = set(
            Advocate.objects.filter(pk__in=advocate_ids)
            .exclude(status=Advocate.Status.ACTIVE)
            .values_list("pk", flat=True)
        )
        capped = _over_cap(sorted(set(advocate_ids) - inactive), campaign_id, now)
        skip: dict[str, list[int]] = {}
        claimed: list[int] = []
        for pk, email, advocate_id in rows:
            if email.lower() in suppressed:
                skip.setdefault(CampaignMessage.SkipReason.UNSUBSCRIBED, []).append(pk)
            elif advocate_id in inactive:
                skip.setdefault(CampaignMessage.SkipReason.INACTIVE, []).append(pk)
            elif advocate_id in capped:
                skip.setdefault(CampaignMessage.SkipReason.FATIGUE, []).append(pk)
            else:
                claimed.append(pk)
        for reason, ids in skip.items():
            CampaignMessage.objects.filter(pk__in=ids).update(
                status=CampaignMessage.Status.SKIPPED, skip_reason=reason, claimed_at=None
            )
        if claimed:
            CampaignMessage.objects.filter(pk__in=claimed).update(
                status=CampaignMessage.Status.SENDING, claimed_at=now
            )
    return now, claimed, len(rows)


def _release(ids: list[int], claimed_at: datetime, campaign_id: int) -> None:
    """Give back claimed rows this worker did not send (pending; skipped if cancelled)."""
    if not ids:
        return
    cancelled = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.CANCELLED).exists()
    values: dict[str, Any] = {"claimed_at": None}
    if cancelled:
        values |= {
            "status": CampaignMessage.Status.SKIPPED,
            "skip_reason": CampaignMessage.SkipReason.CANCELLED,
        }
    else:
        values["status"] = CampaignMessage.Status.PENDING
    CampaignMessage.objects.filter(
        pk__in=ids, status=CampaignMessage.Status.SENDING, claimed_at=claimed_at, sent_at=None
    ).update(**values)


# --- Delivering one message ---------------------------------------------------------------


class _Refused(Exception):
    """The server refused this message (``permanent``: do not retry it)."""

    def __init__(self, error: str, *, permanent: bool) -> None:
        super().__init__(error)
        self.permanent = permanent


def _smtp_begin_all(
    pairs: list[tuple[SMTPBackend, EmailMultiAlternatives]], data: list[bytes]
) -> list[Exception | None]:
    """MAIL, RCPT, DATA and the content on each connection — everything but the final
    ".": nothing is accepted yet. Returns, per pair, None or the error that stopped it.

    Each command goes out on every connection of the group before any reply is read, so
    the group waits once per step, not once per message and step (no SMTP PIPELINING
    needed: each connection still sees one command at a time).
    """
    errors: list[Exception | None] = [None] * len(pairs)
    plans: list[list[tuple[str, str, tuple[int, ...]]]] = []
    for i, (backend, email) in enumerate(pairs):
        encoding = email.encoding or settings.DEFAULT_CHARSET
        try:
            if backend.connection is None:
                _open(backend)
            sender = _sender(email.from_email, encoding)
            recipients = [sanitize_address(a, encoding) for a in email.recipients()]
        except (smtplib.SMTPException, OSError) as error:
            errors[i] = error
            recipients, sender = [], ""
        plans.append(
            [("mail", f"FROM:{smtplib.quoteaddr(sender)}", (250,))]
            + [("rcpt", f"TO:{smtplib.quoteaddr(r)}", (250, 251)) for r in recipients]
            + [("data", "", (354,))]
        )
    conns = [backend.connection for backend, _ in pairs]
    step = 0
    while True:
        active = [i for i in range(len(pairs)) if errors[i] is None and step < len(plans[i])]
        if not active:
            break
        for i in active:
            verb, argument, _ = plans[i][step]
            try:
                conns[i].putcmd(verb, argument)
            except (smtplib.SMTPException, OSError) as error:
                errors[i] = error
        for i in active:
            if errors[i] is not None:
                continue
            verb, _, expected = plans[i][step]
            try:
                code, reply = conns[i].getreply()
                if code not in expected:
                    conns[i].rset()
                    errors[i] = _Refused(
                        f"{verb.upper()} {code} {reply!r}"[:300], permanent=code >= 500
                    )
            except (smtplib.SMTPException, OSError) as error:
                errors[i] = error
        step += 1
    for i, conn in enumerate(conns):
        if errors[i] is None:
            quoted = smtplib._quote_periods(data[i])  # the dot-stuffing SMTP.data() does
            if not quoted.endswith(b"\r\n"):
                quoted += b"\r\n"
            try:
                conn.send(quoted)
            except (smtplib.SMTPException, OSError) as error:
                errors[i] = error
    return errors


@functools.lru_cache(maxsize=8)
def _sender(from_email: str, encoding: str) -> str:
    return sanitize_address(from_email, encoding)


def _qp(text: str) -> bytes:
    # CRLF line ends in, CRLF out (b2a_qp keeps the style of the first line end).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return binascii.b2a_qp(lines.encode("utf-8"), istext=True) + b"\r\n"


def email_bytes(email: EmailMultiAlternatives) -> bytes:
    """The message as SMTP DATA (CRLF), for the shape campaigns send: a UTF-8 text part
    and one HTML alternative, quoted-printable (7-bit: any server takes it).

    Written out directly: the email package's generator (header folding, policy lookups)
    was the largest cost per email left. Anything else goes through Django's own
    ``message()``. tests/campaigns/test_sending.py parses both and compares them.
    """
    encoding = email.encoding or settings.DEFAULT_CHARSET
    names = {name.lower() for name in email.extra_headers}
    if (
        email.attachments
        or email.cc
        or email.reply_to
        or encoding.lower() not in ("utf-8", "utf8")
        or email.content_subtype != "plain"
        or len(email.alternatives) != 1
        or email.alternatives[0][1] != "text/html"
        or names & {"from", "to", "cc", "reply-to", "content-type", "mime-version"}
    ):
        return email.message().as_bytes(linesep="\r\n")
    boundary = f"=_vouch_{secrets.token_hex(12)}"  # "=" never appears in a QP body
    headers = [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        forbid_multi_line_headers("Subject", email.subject, encoding),
        forbid_multi_line_headers("From", email.from_email, encoding),
        forbid_multi_line_headers("To", ", ".join(str(to) for to in email.to), encoding),
    ]
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers += [
        forbid_multi_line_headers(name, value, encoding)
        for name, value in email.extra_headers.items()
    ]
    # Header.encode() folds long values with "\n ": made "\r\n " here (no other newline
    # can be in a value: forbid_multi_line_headers refuses them).
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).replace("\n ", "\r\n ")
    part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
    return b"".join(
        [
            head.encode("ascii"),
            b"\r\n",
            f"--{boundary}\r\n{part.format('plain')}\r\n\r\n".encode("ascii"),
            _qp(email.body),
            f"--{boundary}\r\n{part.format('html')}\r\n\r\n".encode("ascii"),
            _qp(email.alternatives[0][0]),
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )


def _smtp_dot(conn: smtplib.SMTP) -> None:
    """The final ".": from here the server has the message (its reply is read later)."""
    conn.send(b".\r\n")


def _smtp_reply(conn: smtplib.SMTP) -> None:
    code, reply = conn.getreply()
    if code != 250:
        raise _Refused(f"end of data {code} {reply!r}"[:300], permanent=code >= 500)


def _record_failure(message_id: int, claimed_at: datetime, error: str, *, permanent: bool) -> int:
    """Back to pending with attempts+1 (failed after MAX_ATTEMPTS or when permanent)."""
    row = CampaignMessage.objects.filter(pk=message_id).values("attempts").first()
    attempts = (row["attempts"] if row else 0) + 1
    failed = permanent or attempts >= MAX_ATTEMPTS
    CampaignMessage.objects.filter(
        pk=message_id,
        status__in=(CampaignMessage.Status.SENDING, CampaignMessage.Status.SENT),
        claimed_at=claimed_at,
    ).update(
        status=CampaignMessage.Status.FAILED if failed else CampaignMessage.Status.PENDING,
        attempts=attempts,
        error=error[:300],
        sent_at=None,
        claimed_at=None,
    )
    return attempts


def _mark_sent(message_ids: list[int], claimed_at: datetime) -> set[int]:
    """Hand over: stamp ``sent_at`` and COMMIT, in one transaction, on the rows still ours
    while the campaign still sends; returns their ids. From this COMMIT on a row is never
    sent again (claims skip "sending" rows with a ``sent_at``); ``_confirm_sent`` makes
    it "sent" once the server answered its final ".".

    The row locks and the conditions decide, row by row: a row re-claimed by another
    worker (its ``claimed_at`` changed) or of a paused/cancelled campaign is not sent. A
    concurrent claim locks the same rows, so the two serialise (module docstring, 4).
    """
    if not message_ids:
        return set()
    with transaction.atomic():
        won = set(
            CampaignMessage.objects.select_for_update(of=("self",))
            .filter(
                pk__in=message_ids,
                status=CampaignMessage.Status.SENDING,
                claimed_at=claimed_at,
                sent_at=None,
                campaign__status=SENDABLE,
            )
            .values_list("pk", flat=True)
        )
        if won:
            CampaignMessage.objects.filter(pk__in=won).update(sent_at=timezone.now(), error="")
    return won


def _confirm_sent(message_ids: list[int], claimed_at: datetime) -> None:
    """Handed-over rows whose "." went out → "sent" (one statement for the group)."""
    if message_ids:
        CampaignMessage.objects.filter(
            pk__in=message_ids,
            status=CampaignMessage.Status.SENDING,
            claimed_at=claimed_at,
            sent_at__isnull=False,
        ).update(status=CampaignMessage.Status.SENT)


IN_DOUBT = (
    "the worker stopped between handing this message to the SMTP server and its reply: "
    "delivered or lost, never sent twice"
)


def _settle_handed_over(rows: Any, stale: datetime) -> int:
    """Rows (of ``rows``) a dead worker handed over (``sent_at`` set, still "sending",
    claim stale): "sent", with the doubt written down. Their "." may or may not have left."""
    return rows.filter(
        status=CampaignMessage.Status.SENDING, sent_at__isnull=False, claimed_at__lt=stale
    ).update(status=CampaignMessage.Status.SENT, error=IN_DOUBT)


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retry: int = 0  # transient failures: the next batch waits (backoff)
    stopped: bool = False  # paused, cancelled, or nothing left to claim
    retry_in: float = 0
    failed_ids: list[int] = field(default_factory=list)


def smtp_connections() -> int:
    """SMTP connections a worker keeps open: the messages of one group commit."""
    return max(1, int(getattr(settings, "CAMPAIGN_SMTP_CONNECTIONS", 10)))


def campaign_send_next_batch(*, campaign_id: int, connection: Any = None) -> BatchResult:
    """Claim one batch and send it in groups, one SMTP connection per message of a group
    (see the module docstring). ``connection``: the first backend to use (tests)."""
    claimed_at, ids, seen = _claim(campaign_id)
    result = BatchResult(claimed=len(ids))
    if claimed_at is None:
        result.stopped = True
        return result
    if not seen:
        _finish_if_done(campaign_id)
        result.stopped = True
        return result
    if not ids:
        return result  # the whole batch was skipped: on to the next one
    campaign = Campaign.objects.select_related("challenge").get(pk=campaign_id)
    program = ProgramSettings.load()
    messages = {m.pk: m for m in CampaignMessage.objects.filter(pk__in=ids, claimed_at=claimed_at)}
    for message in messages.values():
        message.campaign = campaign  # one campaign object (and its challenge) for all
    prepared = prepare_batch(campaign=campaign, messages=list(messages.values()), program=program)
    first = connection or get_connection()
    smtp = isinstance(first, SMTPBackend)
    # SMTP: a group is one message per connection (the "." of each waits for the group's
    # COMMIT). Other backends (console, locmem in tests) cannot hold a message back
    # unfinished: one message per commit, sent after it.
    size = smtp_connections() if smtp else 1
    backends = [first]
    # The claim is ours for CLAIM_STALE seconds: leave a wide margin, then hand back.
    deadline = time.monotonic() + claim_stale_seconds() / 2
    remaining = [pk for pk in ids if pk in messages]
    clean = False
    try:
        if smtp:
            _open(first)
        else:
            first.open()
        while remaining and time.monotonic() <= deadline:
            group = [messages[pk] for pk in remaining[:size]]
            while smtp and len(backends) < len(group):
                backends.append(get_connection())
            del remaining[: len(group)]
            outcomes = _deliver_group(
                backends, smtp, campaign, group, program, claimed_at, prepared
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
        _release(remaining, claimed_at, campaign_id)
        for backend in backends:
            # After an unexpected error a connection may be inside a DATA section.
            _close_quietly(backend) if clean else _reset(backend)
    if result.retry:
        result.retry_in = min(600, 5 * 2 ** min(result.retry, 7))
    return result


def _deliver(
    backend: Any,
    smtp: bool,
    campaign: Campaign,
    message: CampaignMessage,
    program: ProgramSettings,
    claimed_at: datetime,
    prepared: Prepared | None = None,
) -> str:
    """Send one message: "sent", "retry", "failed", "skip" (not ours) or "stop"."""
    outcomes = _deliver_group([backend], smtp, campaign, [message], program, claimed_at, prepared)
    return outcomes[message.pk]


def _deliver_group(
    backends: list[Any],
    smtp: bool,
    campaign: Campaign,
    group: list[CampaignMessage],
    program: ProgramSettings,
    claimed_at: datetime,
    prepared: Prepared | None,
) -> dict[int, str]:
    """Send a group with ONE commit: message pk -> "sent", "retry", "broken", "failed",
    "skip" (not ours) or "stop" (campaign no longer sending).

    SMTP: message i goes over ``backends[i]``, up to the end of its content (all but the
    final "."); the rows are marked sent in one statement, COMMITTED, and only then the
    final dots are written, all of them before any reply is read (module docstring, 2-3).
    """
    outcomes: dict[int, str] = {}
    ready: list[tuple[CampaignMessage, EmailMultiAlternatives, Any]] = []
    data: list[bytes] = []
    for message, backend in zip(
        group, backends if smtp else [backends[0]] * len(group), strict=False
    ):
        try:
            email = build_email(
                campaign=campaign, message=message, program=program, prepared=prepared
            )
            if smtp:
                data.append(email_bytes(email))
        except Exception as error:
            # Building is deterministic (template, placeholders, the kind's links): a retry
            # would fail the same way, so the row fails now, with the reason, and the group
            # goes on. Left "sending", it would be re-claimed and kill each worker in turn.
            logger.exception("campaign %s message %s could not be built", campaign.pk, message.pk)
            _record_failure(
                message.pk, claimed_at, f"could not build the email: {error}", permanent=True
            )
            outcomes[message.pk] = "failed"
            continue
        email.connection = backend
        ready.append((message, email, backend))
    if smtp and ready:
        errors = _smtp_begin_all([(backend, email) for _, email, backend in ready], data)
        begun = []
        for (message, email, backend), error in zip(ready, errors, strict=True):
            if error is None:
                begun.append((message, email, backend))
            elif isinstance(error, _Refused):
                outcomes[message.pk] = _refused(message, claimed_at, error, campaign)
            else:
                # Before the COMMIT: not sent, retry later.
                _record_failure(
                    message.pk, claimed_at, f"{type(error).__name__}: {error}", permanent=False
                )
                _reset(backend)
                outcomes[message.pk] = "broken" if _is_broken(error) else "retry"
        ready = begun
    if not ready:
        return outcomes
    won = _mark_sent([message.pk for message, _, _ in ready], claimed_at)
    # COMMITTED as sent. Now, and only now, the server may accept them.
    if len(won) < len(ready):
        sending = Campaign.objects.filter(pk=campaign.pk, status=SENDABLE).exists()
        for message, _, backend in ready:
            if message.pk not in won:
                # Taken over by another worker (its claim, its send), or the campaign
                # stopped: this server never gets the ".", and discards the message.
                outcomes[message.pk] = "skip" if sending else "stop"
                if smtp:
                    _reset(backend)
    ready = [item for item in ready if item[0].pk in won]
    if smtp:
        # Every "." first, corked: each lands in its socket's send queue without going
        # out yet, so the window between the COMMIT and the last of them is these few
        # system calls. Uncorked one by one, the first "." would wake the SMTP server,
        # which on a busy machine takes the CPU from this process with the other dots
        # still unwritten (the crash test caught a kill there: 9 of 10 lost). Once
        # queued, a "." leaves even if the process dies: the kernel flushes on close.
        dotted = []
        _cork([backend for _, _, backend in ready], on=True)
        for message, _, backend in ready:
            try:
                _smtp_dot(backend.connection)
                dotted.append((message, backend))
            except _Refused as error:
                outcomes[message.pk] = _refused(message, claimed_at, error, campaign)
            except (smtplib.SMTPException, OSError) as error:
                outcomes[message.pk] = _in_doubt(message, backend, error)
        _cork([backend for _, backend in dotted], on=False)
        for message, backend in dotted:
            try:
                _smtp_reply(backend.connection)
                outcomes[message.pk] = "sent"
            except _Refused as error:
                outcomes[message.pk] = _refused(message, claimed_at, error, campaign)
            except (smtplib.SMTPException, OSError) as error:
                outcomes[message.pk] = _in_doubt(message, backend, error)
        _confirm_sent([pk for pk, outcome in outcomes.items() if outcome == "sent"], claimed_at)
        return outcomes
    for message, email, backend in ready:
        try:
            backend.send_messages([email])
            outcomes[message.pk] = "sent"
        except (smtplib.SMTPException, OSError) as error:
            _record_failure(
                message.pk, claimed_at, f"{type(error).__name__}: {error}", permanent=False
            )
            outcomes[message.pk] = "broken" if _is_broken(error) else "retry"
    _confirm_sent([pk for pk, outcome in outcomes.items() if outcome == "sent"], claimed_at)
    return outcomes


def _cork(backends: list[Any], *, on: bool) -> None:
    """TCP_CORK on (hold small writes in the kernel) or off (send them now); Linux only,
    elsewhere the dots go out one by one."""
    if not hasattr(socket, "TCP_CORK"):
        return
    for backend in backends:
        sock = getattr(backend.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)


def _is_broken(error: Exception) -> bool:
    # The connection itself is gone (SMTPException is an OSError too: a refusal of one
    # message is not a reason to stop the batch).
    return isinstance(
        error, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)
    ) or not isinstance(error, smtplib.SMTPException)


def _refused(
    message: CampaignMessage, claimed_at: datetime, error: _Refused, campaign: Campaign
) -> str:
    attempts = _record_failure(message.pk, claimed_at, str(error), permanent=error.permanent)
    logger.warning("campaign %s message %s refused: %s", campaign.pk, message.pk, error)
    return "failed" if error.permanent or attempts >= MAX_ATTEMPTS else "retry"


def _in_doubt(message: CampaignMessage, backend: Any, error: Exception) -> str:
    """No reply after the final "." (connection cut): in doubt, the row stays sent —
    never sent twice (the stable Message-ID lets a deduplicating relay absorb a resend)."""
    CampaignMessage.objects.filter(pk=message.pk).update(
        error=f"no reply after the end of data: {error}"[:300]
    )
    _reset(backend)
    return "sent"


def _open(backend: SMTPBackend) -> None:
    """Open the SMTP connection with Nagle's algorithm off.

    The final ".\r\n" is a small write right after the body, with no reply in between:
    with Nagle on, the kernel holds it until the server ACKs the body, and servers delay
    that ACK (40 ms on Linux). That wait was 40 of the 55 ms per email.
    """
    backend.open()
    sock = getattr(backend.connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    backend.connection.ehlo_or_helo_if_needed()


def _close_quietly(backend: Any) -> None:
    try:
        backend.close()
    except (smtplib.SMTPException, OSError) as error:
        logger.info("closing a broken SMTP connection: %s", error)


def _reset(backend: Any) -> None:
    """Drop the connection without QUIT: it may be in the middle of a DATA section, where
    QUIT would be read as message text. The server discards a message without its "."."""
    conn = getattr(backend, "connection", None) if isinstance(backend, SMTPBackend) else None
    if conn is None:
        _close_quietly(backend)
        return
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()
    backend.connection = None


def _finish_if_done(campaign_id: int) -> bool:
    """Mark a (non-trigger) sending campaign sent once no row is pending or in flight."""
    if CampaignMessage.objects.filter(
        campaign_id=campaign_id,
        status__in=(CampaignMessage.Status.PENDING, CampaignMessage.Status.SENDING),
    ).exists():
        return False
    now = timezone.now()
    # A trigger campaign stays "sending" until a manager stops it (campaigns.triggers).
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING, trigger="").update(
            status=Campaign.Status.SENT, finished_at=now, updated_at=now
        )
    )


# --- Tasks --------------------------------------------------------------------------------


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
)
def campaign_send_batch(self, campaign_id: int) -> int:
    """Send batches of one campaign for up to TASK_BUDGET_SECONDS, then hand over.

    Safe to run twice, or alongside other copies: each copy only sends rows it claimed.
    """
    eager = bool(self.app.conf.task_always_eager)
    deadline = time.monotonic() + TASK_BUDGET_SECONDS
    sent = 0
    while True:
        result = campaign_send_next_batch(campaign_id=campaign_id)
        sent += result.sent
        if result.stopped:
            return sent
        if result.retry_in and not eager:
            campaign_send_batch.apply_async((campaign_id,), countdown=result.retry_in)
            return sent
        if result.retry and eager and not result.sent:
            # In-process (no broker): no countdown to wait on; stop, beat resumes later.
            return sent
        if not eager and time.monotonic() > deadline:
            campaign_send_batch.apply_async((campaign_id,))
            return sent


def campaign_dispatch(*, now: datetime | None = None) -> dict[str, int]:
    """Start due scheduled campaigns; re-kick stalled ones; finish drained ones."""
    now = now or timezone.now()
    started = kicked = finished = 0
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
    ).select_related("segment", "challenge"):
        try:
            campaign_start(campaign=campaign, actor=None)
            started += 1
        except CampaignStateError as error:
            logger.info("scheduled campaign %s not started: %s", campaign.pk, error)
    stale = now - timedelta(seconds=claim_stale_seconds())
    sending = Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True)
    for campaign_id in sending:
        _settle_handed_over(CampaignMessage.objects.filter(campaign_id=campaign_id), stale)
        state = CampaignMessage.objects.filter(campaign_id=campaign_id).aggregate(
            pending=Count("id", filter=Q(status=CampaignMessage.Status.PENDING)),
            in_flight=Count("id", filter=Q(status=CampaignMessage.Status.SENDING)),
            stale=Count(
                "id", filter=Q(status=CampaignMessage.Status.SENDING, claimed_at__lt=stale)
            ),
            last_claim=Max("claimed_at"),
            last_sent=Max("sent_at"),
        )
        last = max((t for t in (state["last_claim"], state["last_sent"]) if t), default=None)
        if not state["pending"] and not state["in_flight"]:
            finished += _finish_if_done(campaign_id)
        elif state["stale"] or (state["pending"] and (last is None or last < stale)):
            _enqueue_batches(campaign_id, 1)
            kicked += 1
    # A cancelled campaign's rows whose worker died: no one will release them.
    _settle_handed_over(
        CampaignMessage.objects.filter(campaign__status=Campaign.Status.CANCELLED), stale
    )
    CampaignMessage.objects.filter(
        campaign__status=Campaign.Status.CANCELLED,
        status=CampaignMessage.Status.SENDING,
        claimed_at__lt=stale,
        sent_at=None,
    ).update(
        status=CampaignMessage.Status.SKIPPED,
        skip_reason=CampaignMessage.SkipReason.CANCELLED,
        claimed_at=None,
    )
    return {"started": started, "kicked": kicked, "finished": finished}


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def campaigns_dispatch_due() -> dict[str, int]:
    """Beat, every minute. Idempotent: a campaign starts once (conditional update)."""
    return campaign_dispatch()


# --- Progress, unsubscribe and tracking ---------------------------------------------------


def campaign_progress(campaign_id: int) -> dict[str, int]:
    """Every count the campaign page shows, in one aggregate query."""
    S, R = CampaignMessage.Status, CampaignMessage.SkipReason
    counts = CampaignMessage.objects.filter(campaign_id=campaign_id).aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=S.PENDING)),
        in_flight=Count("id", filter=Q(status=S.SENDING)),
        sent=Count("id", filter=Q(status=S.SENT)),
        failed=Count("id", filter=Q(status=S.FAILED)),
        skipped=Count("id", filter=Q(status=S.SKIPPED)),
        skipped_unsubscribed=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.UNSUBSCRIBED)),
        skipped_fatigue=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.FATIGUE)),
        skipped_inactive=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.INACTIVE)),
        skipped_cancelled=Count("id", filter=Q(status=S.SKIPPED, skip_reason=R.CANCELLED)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    counts["done"] = done
    counts["percent"] = int(100 * done / counts["total"]) if counts["total"] else 0
    return counts


def message_unsubscribe(*, message_id: int) -> CampaignMessage | None:
    """Suppress the message's address from now on (idempotent); None if it does not exist."""
    with transaction.atomic():
        message = CampaignMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return None
        Suppression.objects.bulk_create(
            [
                Suppression(
                    email=message.email.lower(),
                    reason=Suppression.Reason.UNSUBSCRIBED,
                    campaign_id=message.campaign_id,
                )
            ],
            ignore_conflicts=True,  # unsubscribing twice is one suppression
        )
        if message.unsubscribed_at is None:
            message.unsubscribed_at = timezone.now()
            message.save(update_fields=["unsubscribed_at"])
    return message


def message_opened(*, message_id: int) -> None:
    CampaignMessage.objects.filter(pk=message_id, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


def message_clicked(*, message_id: int) -> bool:
    """Record the first click (a click also proves an open); False if no such message."""
    now = timezone.now()
    exists = CampaignMessage.objects.filter(pk=message_id)
    if not exists.exists():
        return False
    exists.filter(clicked_at__isnull=True).update(clicked_at=now)
    exists.filter(opened_at__isnull=True).update(opened_at=now)
    return True
