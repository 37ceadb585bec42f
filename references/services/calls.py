"""After the call: counting it (the one place a call counts), the rep's manual record,
and feedback from both sides.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.models import Advocate
from core import events, fragments
from core.i18n import lazy_text
from core.outbox import activity_after_commit, enqueue_after_commit
from references.matching.band import advocates_changed
from references.models import Ask, Meeting, ReferenceRequest
from references.services.base import ReferenceError, call_points, request_locked
from references.services.summary import reference_counts_refresh
from rewards.services.ledger import LedgerError, points_award


def call_settle(
    *, request: ReferenceRequest, ask: Ask, completed: bool, at: datetime | None = None
) -> bool:
    """Mark the agreed call held (it counts) or not held; the one place a call counts.

    Called with the request's row locked. The conditional update from "accepted" decides
    who settles it: the rep's button, both sides' confirmations, the dispute sweep or a
    manager's ruling may race, and only the first one counts the call (points, cap,
    influenced revenue). Returns whether this call settled it.
    """
    at = at or timezone.now()
    status = Ask.Status.COMPLETED if completed else Ask.Status.NO_SHOW
    settled = Ask.objects.filter(pk=ask.pk, status=Ask.Status.ACCEPTED).update(
        status=status, completed_at=at
    )
    if not settled:
        return False
    fragments.advocates_changed([ask.advocate_id])
    fragments.scopes_changed(fragments.Scope.REFERENCES)  # the reps' lists
    if not completed:
        advocates_changed()  # a missed call does not count toward the cap
    request.status = (
        ReferenceRequest.Status.COMPLETED if completed else ReferenceRequest.Status.NO_SHOW
    )
    request.completed_at = at
    request.save(update_fields=["status", "completed_at"])
    if completed:
        reference_counts_refresh(advocate_ids=[ask.advocate_id])
        points = call_points()
        if points > 0:
            # Written by the ledger in the language of the advocate who reads it.
            reason = lazy_text(
                gettext_lazy("Reference call with %(company)s"), company=request.prospect_company
            )
            try:
                points_award(
                    advocate_id=ask.advocate_id,
                    amount=points,
                    reason=reason,
                    idempotency_key=f"reference-call:{ask.pk}:completed",
                    source=ask,
                )
            except LedgerError as error:  # above the maximum points per event
                raise ReferenceError(str(error)) from None
        # After commit, in a worker: a badge problem must not undo the call's points.
        activity_after_commit(advocate_id=ask.advocate_id)
        enqueue_after_commit("references.tasks.feedback_request_send", ask.pk)
        events.emit(
            "reference.call_completed",
            {
                "ask": ask.pk,
                "request": request.pk,
                "advocate": ask.advocate_id,
                "advocate_email": ask.advocate.user.email,
                "rep": request.rep_id,
                "prospect_company": request.prospect_company,
                "completed_at": at.isoformat(),
            },
        )
    return True


def call_record(*, request: ReferenceRequest, completed: bool) -> Ask:
    """The rep marks a call arranged outside Vouch done (points, once) or a no-show.

    A call booked through Vouch is settled by attendance instead (both sides confirm),
    so the rep's click alone does not count it.
    """
    with transaction.atomic():
        request = request_locked(request.pk)
        ask = (
            request.asks.select_related("advocate__user").filter(status=Ask.Status.ACCEPTED).first()
        )
        if ask is None or request.status != ReferenceRequest.Status.SCHEDULED:
            raise ReferenceError(_("There is no agreed call to mark on this request."))
        if Meeting.objects.filter(ask=ask, status=Meeting.Status.SCHEDULED).exists():
            raise ReferenceError(
                _(
                    "This call was booked in Vouch: answer “Did the call happen?” instead, "
                    "so it counts when both sides confirm."
                )
            )
        call_settle(request=request, ask=ask, completed=completed)
        Meeting.objects.filter(ask=ask).exclude(status=Meeting.Status.CANCELLED).update(
            status=Meeting.Status.CLOSED
        )
    ask.refresh_from_db()
    return ask


def advocate_feedback_give(*, ask_id: int, advocate: Advocate, rating: int, text: str) -> Ask:
    if not 1 <= rating <= 5:
        raise ReferenceError(_("Rate the call from 1 to 5."))
    updated = Ask.objects.filter(
        pk=ask_id,
        advocate=advocate,
        status=Ask.Status.COMPLETED,
        advocate_feedback_at__isnull=True,
    ).update(
        advocate_rating=rating, advocate_feedback=text.strip(), advocate_feedback_at=timezone.now()
    )
    fragments.advocates_changed([advocate.pk])
    if not updated:
        if not Ask.objects.filter(pk=ask_id, advocate=advocate).exists():
            raise Ask.DoesNotExist
        raise ReferenceError(_("Feedback is for calls marked done, once."))
    return Ask.objects.get(pk=ask_id)


def prospect_feedback_give(*, request: ReferenceRequest, rating: int, text: str) -> None:
    if not 1 <= rating <= 5:
        raise ReferenceError(_("Rate the call from 1 to 5."))
    if request.status != ReferenceRequest.Status.COMPLETED:
        raise ReferenceError(_("Feedback opens once the call has taken place."))
    updated = ReferenceRequest.objects.filter(
        pk=request.pk,
        status=ReferenceRequest.Status.COMPLETED,
        prospect_feedback_at__isnull=True,
    ).update(
        prospect_rating=rating,
        prospect_feedback=text.strip(),
        prospect_feedback_at=timezone.now(),
        updated_at=timezone.now(),  # an update() skips auto_now: the API's updated_since
    )
    if not updated:
        raise ReferenceError(_("Thank you: your feedback is already recorded."))
