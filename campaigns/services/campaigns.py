"""A campaign's state machine (start, schedule, pause, resume, cancel, beat's dispatch)
and what its recipients do (unsubscribe, open, click).

The batches themselves are sent by ``campaigns.sending`` (its docstring tells the life of
a message row); this module enqueues them by task name once its transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import kinds, placeholders, segments
from campaigns.kinds import EDITABLE
from campaigns.models import Campaign, CampaignMessage, Suppression
from campaigns.selectors import campaign_recipient_rows
from campaigns.sending import claim
from campaigns.services.suppressions import suppression_add
from core import fragments
from core.audit import audit_record
from core.outbox import enqueue_after_commit

logger = logging.getLogger(__name__)

SEND_BATCH_TASK = "campaigns.sending.campaign_send_batch"
CREATE_CHUNK = 2000
T = TypeVar("T")


class CampaignStateError(Exception):
    """The campaign is not in a state that allows this (message says why)."""


def send_parallelism() -> int:
    return int(getattr(settings, "CAMPAIGN_SEND_PARALLELISM", 4))


def _chunks(iterable: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _messages_create(campaign: Campaign) -> int:
    """One pending row per recipient (set-wise, in chunks; re-running adds nothing)."""
    now = timezone.now()
    for chunk in _chunks(campaign_recipient_rows(campaign), CREATE_CHUNK):
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
    """Run ``count`` batch chains for the campaign once the transaction commits (through
    the outbox: the intent is written with the transaction, so it survives a broker
    outage)."""
    for _batch in range(max(1, count)):
        enqueue_after_commit(SEND_BATCH_TASK, campaign_id)


def start_problems(campaign: Campaign) -> list[str]:
    """Why the campaign cannot start as it is ([] when it can)."""
    problems = placeholders.every_language_problems(campaign)
    if kinds.audience(campaign) is None:
        if campaign.segment is None:
            problems.append(_("Choose the segment to send to."))
        else:
            try:
                segments.segment_advocates(campaign.segment.filters)
            except segments.SegmentFilterError as error:
                problems.append(
                    _("The segment's filter is not valid: %(error)s") % {"error": error}
                )
    return problems


def campaign_save(*, campaign: Campaign, created: bool) -> bool:
    """Save a composed campaign; False (nothing saved) when it has started since the
    compose page loaded: saving then would put a sending campaign back to draft."""
    with transaction.atomic():
        if not created and not (
            Campaign.objects.select_for_update()
            .filter(pk=campaign.pk, status__in=EDITABLE)
            .exists()
        ):
            return False
        campaign.save()
    return True


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
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)  # referral drives on hubs
        won = Campaign.objects.filter(
            pk=campaign.pk, status__in=(Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
        ).update(status=Campaign.Status.SENDING, started_at=now, updated_at=now)
        if not won:
            raise CampaignStateError(_("This campaign has already been started."))
        try:
            total = _messages_create(campaign)
        except segments.SegmentFilterError as error:
            raise CampaignStateError(
                _("The segment's filter is not valid: %(error)s") % {"error": error}
            ) from error
        audit_record(
            actor=actor, action="campaign.start", target=campaign, detail={"recipients": total}
        )
        chains = min(send_parallelism(), -(-total // claim.BATCH_SIZE)) if total else 1
        _enqueue_batches(campaign.pk, chains)
    campaign.status, campaign.started_at = Campaign.Status.SENDING, now
    return total


def campaign_schedule(*, campaign: Campaign, at: datetime, actor: Any) -> None:
    with transaction.atomic():
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)  # referral drives on hubs
        won = Campaign.objects.filter(
            pk=campaign.pk, status__in=(Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
        ).update(status=Campaign.Status.SCHEDULED, scheduled_at=at, updated_at=timezone.now())
        if not won:
            raise CampaignStateError(_("Only a draft can be scheduled."))
        audit_record(
            actor=actor, action="campaign.schedule", target=campaign, detail={"at": at.isoformat()}
        )
    campaign.status, campaign.scheduled_at = Campaign.Status.SCHEDULED, at


def campaign_pause(*, campaign: Campaign, actor: Any) -> None:
    """Stop sending after the messages in hand; claimed rows go back to pending."""
    with transaction.atomic():
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)  # referral drives on hubs
        if not Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.PAUSED, updated_at=timezone.now()
        ):
            raise CampaignStateError(_("Only a campaign that is sending can be paused."))
        audit_record(actor=actor, action="campaign.pause", target=campaign)
    campaign.status = Campaign.Status.PAUSED


def campaign_resume(*, campaign: Campaign, actor: Any) -> None:
    with transaction.atomic():
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)  # referral drives on hubs
        if not Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.PAUSED).update(
            status=Campaign.Status.SENDING, updated_at=timezone.now()
        ):
            raise CampaignStateError(_("Only a paused campaign can be resumed."))
        audit_record(actor=actor, action="campaign.resume", target=campaign)
        _enqueue_batches(campaign.pk, send_parallelism())
    campaign.status = Campaign.Status.SENDING


def campaign_cancel(*, campaign: Campaign, actor: Any) -> int:
    """Cancel: nothing more is sent; pending rows are skipped ("cancelled"). Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)  # referral drives on hubs
        if not Campaign.objects.filter(
            pk=campaign.pk,
            status__in=(
                Campaign.Status.DRAFT,
                Campaign.Status.SCHEDULED,
                Campaign.Status.SENDING,
                Campaign.Status.PAUSED,
            ),
        ).update(status=Campaign.Status.CANCELLED, finished_at=now, updated_at=now):
            raise CampaignStateError(_("This campaign has already finished."))
        stale = now - timedelta(seconds=claim.claim_stale_seconds())
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
    stale = now - timedelta(seconds=claim.claim_stale_seconds())
    sending = Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True)
    for campaign_id in sending:
        claim.settle_handed_over(CampaignMessage.objects.filter(campaign_id=campaign_id), stale)
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
            finished += claim.finish_if_done(campaign_id)
        elif state["stale"] or (state["pending"] and (last is None or last < stale)):
            _enqueue_batches(campaign_id, 1)
            kicked += 1
    # A cancelled campaign's rows whose worker died: no one will release them.
    claim.settle_handed_over(
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


def message_unsubscribe(*, message_id: int) -> CampaignMessage | None:
    """Suppress the message's address from now on (idempotent); None if it does not exist."""
    with transaction.atomic():
        message = CampaignMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return None
        # Unsubscribing twice is one suppression (an address keeps its first reason).
        suppression_add(
            email=message.email,
            reason=Suppression.Reason.UNSUBSCRIBED,
            campaign_id=message.campaign_id,
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
