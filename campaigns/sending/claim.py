"""The life of a message row: claimed in batches, handed over, sent, failed, released.

Every change here is a conditional update or runs under row locks; the
``campaigns.sending`` docstring says why each one is safe against a second worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from advocates.models import Advocate
from campaigns.models import Campaign, CampaignMessage, Suppression
from core import events, fragments
from core.models import ProgramSettings

BATCH_SIZE = 100
MAX_ATTEMPTS = 5
SENDABLE = Campaign.Status.SENDING
IN_DOUBT = (
    "the worker stopped between handing this message to the SMTP server and its reply: "
    "delivered or lost, never sent twice"
)


def claim_stale_seconds() -> int:
    return int(getattr(settings, "CAMPAIGN_CLAIM_STALE_SECONDS", 600))


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


def claim_batch(campaign_id: int) -> tuple[datetime | None, list[int], int]:
    """Claim up to BATCH_SIZE rows; skip those the rules exclude. Commits before returning."""
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


def release(ids: list[int], claimed_at: datetime, campaign_id: int) -> None:
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


# --- Failing, handing over, settling ------------------------------------------------------


def record_failure(message_id: int, claimed_at: datetime, error: str, *, permanent: bool) -> int:
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


def mark_sent(message_ids: list[int], claimed_at: datetime) -> set[int]:
    """Hand over: stamp ``sent_at`` and COMMIT, in one transaction, on the rows still ours
    while the campaign still sends; returns their ids. From this COMMIT on a row is never
    sent again (claims skip "sending" rows with a ``sent_at``); ``confirm_sent`` makes
    it "sent" once the server answered its final ".".

    The row locks and the conditions decide, row by row: a row re-claimed by another
    worker (its ``claimed_at`` changed) or of a paused/cancelled campaign is not sent. A
    concurrent claim locks the same rows, so the two serialise (``campaigns.sending`` docstring, 4).
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


def confirm_sent(message_ids: list[int], claimed_at: datetime) -> None:
    """Handed-over rows whose "." went out → "sent" (one statement for the group)."""
    if message_ids:
        CampaignMessage.objects.filter(
            pk__in=message_ids,
            status=CampaignMessage.Status.SENDING,
            claimed_at=claimed_at,
            sent_at__isnull=False,
        ).update(status=CampaignMessage.Status.SENT)
        # A referral drive's message shows on its advocate's hub once sent.
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)


def settle_handed_over(rows: Any, stale: datetime) -> int:
    """Rows (of ``rows``) a dead worker handed over (``sent_at`` set, still "sending",
    claim stale): "sent", with the doubt written down. Their "." may or may not have left."""
    settled = rows.filter(
        status=CampaignMessage.Status.SENDING, sent_at__isnull=False, claimed_at__lt=stale
    ).update(status=CampaignMessage.Status.SENT, error=IN_DOUBT)
    if settled:
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)
    return settled


CAMPAIGN_SENT_EVENT = "campaign.sent"
# The counts a campaign.sent event reports (CampaignMessage.Status once nothing is left).
FINAL_STATUSES = ("sent", "failed", "skipped")


def finish_if_done(campaign_id: int) -> bool:
    """Mark a (non-trigger) sending campaign sent once no row is pending or in flight."""
    if CampaignMessage.objects.filter(
        campaign_id=campaign_id,
        status__in=(CampaignMessage.Status.PENDING, CampaignMessage.Status.SENDING),
    ).exists():
        return False
    now = timezone.now()
    with transaction.atomic():
        # A trigger campaign stays "sending" until a manager stops it (campaigns.triggers).
        # The row count decides which of two finishing batches announces it.
        if not Campaign.objects.filter(
            pk=campaign_id, status=Campaign.Status.SENDING, trigger=""
        ).update(status=Campaign.Status.SENT, finished_at=now, updated_at=now):
            return False
        fragments.scopes_changed(fragments.Scope.CAMPAIGNS)
        if events.wanted(CAMPAIGN_SENT_EVENT):
            counts = dict(
                CampaignMessage.objects.filter(campaign_id=campaign_id)
                .values("status")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("status", "n")
            )
            campaign = Campaign.objects.only("name", "kind").get(pk=campaign_id)
            events.emit(
                CAMPAIGN_SENT_EVENT,
                {
                    "campaign": campaign_id,
                    "name": campaign.name,
                    "kind": campaign.kind,
                    "finished_at": now.isoformat(),
                    "messages": {status: counts.get(status, 0) for status in FINAL_STATUSES},
                },
            )
    return True
