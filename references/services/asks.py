"""Asking an advocate: the burnout guard's reservation, the answer, the timeout sweep.

The burnout guard holds under concurrency because every ask is created by
``ask_reserve``, which locks the advocate's row (``select_for_update``) before it counts
the advocate's calls: two reps asking for the same advocate at once are served one
after the other, and the second sees the first's ask. The partial unique constraint
"one pending ask per advocate" backs it in the database.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Advocate
from core import events, fragments
from core.i18n import in_sentence
from core.outbox import enqueue_after_commit
from references.matching.band import advocates_changed
from references.matching.guard import available_advocates, unavailable_reason
from references.models import Ask, MatchingWeights, ReferenceRequest
from references.services.base import ReferenceError, rep_notify, request_locked


def ask_reserve(*, request: ReferenceRequest, advocate_id: int) -> Ask:
    """Ask one advocate for this (locked) request, if the burnout guard allows it.

    The advocate's row lock makes the count-then-insert below atomic across requests.
    Locks are always taken request first, then advocate.
    """
    now = timezone.now()
    advocate = (
        Advocate.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=advocate_id)
        .first()
    )
    if advocate is None:
        raise ReferenceError(_("This advocate no longer exists."))
    why_not = unavailable_reason(advocate, now)
    if why_not:
        raise ReferenceError(why_not)
    if Ask.objects.filter(request=request, advocate=advocate).exists():
        raise ReferenceError(
            _("%(name)s was already asked for this request.") % {"name": advocate.name}
        )
    if Ask.objects.filter(request=request, status__in=Ask.IN_FLIGHT).exists():
        raise ReferenceError(_("An advocate is already asked or agreed for this request."))
    hours = MatchingWeights.current().answer_hours
    try:
        with transaction.atomic():
            ask = Ask.objects.create(
                request=request,
                advocate=advocate,
                asked_at=now,
                deadline=now + timedelta(hours=hours),
            )
    except IntegrityError:
        raise ReferenceError(
            _("%(name)s was asked by someone else a moment ago.") % {"name": advocate.name}
        ) from None
    request.status = ReferenceRequest.Status.ASKED
    request.matched_at = request.matched_at or now
    request.save(update_fields=["status", "matched_at"])
    enqueue_after_commit("references.tasks.ask_send", ask.pk)
    return ask


def request_ask_directly(*, request: ReferenceRequest, advocate_id: int) -> Ask:
    """The rep asks one advocate from the matches without sending the prospect a link."""
    askable = (
        ReferenceRequest.Status.OPEN,
        ReferenceRequest.Status.WITH_PROSPECT,
        ReferenceRequest.Status.NEEDS_REP,
    )
    with transaction.atomic():
        request = request_locked(request.pk)
        if request.status not in askable:
            raise ReferenceError(
                _("This request is “%(status)s”: no new advocate can be asked.")
                % {"status": request.get_status_display()}
            )
        return ask_reserve(request=request, advocate_id=advocate_id)


def _advance(request_id: int) -> Ask | None:
    """After a decline or a timeout: ask the prospect's next choice, else tell the rep.

    The next choice is the next advocate of the shortlist, in the order shown, that
    has not been asked and that the guard lets through now.
    """
    with transaction.atomic():
        request = request_locked(request_id)
        if request.status != ReferenceRequest.Status.ASKED:
            return None
        if request.asks.filter(status__in=Ask.IN_FLIGHT).exists():
            return None
        asked = set(request.asks.values_list("advocate_id", flat=True))
        # Only try those who look available without a lock, so this transaction
        # normally locks one advocate row: fewer locks held, less room for deadlocks.
        available = available_advocates().values("pk")
        next_choices = (
            request.candidates.exclude(advocate_id__in=asked)
            .filter(advocate_id__in=available)
            .order_by("rank", "id")
        )
        for candidate in next_choices:
            try:
                with transaction.atomic():
                    return ask_reserve(request=request, advocate_id=candidate.advocate_id)
            except ReferenceError:
                continue
        request.status = ReferenceRequest.Status.NEEDS_REP
        request.save(update_fields=["status"])
        rep_notify(request, "no_choice_left")
    return None


def ask_answer(*, ask_id: int, advocate: Advocate, accept: bool, reason: str = "") -> Ask:
    """The advocate accepts or declines. Someone else's ask does not exist for them."""
    now = timezone.now()
    ask = Ask.objects.filter(pk=ask_id, advocate=advocate).first()
    if ask is None:
        raise Ask.DoesNotExist
    new_status = Ask.Status.ACCEPTED if accept else Ask.Status.DECLINED
    with transaction.atomic():
        request = request_locked(ask.request_id)
        # Conditional update: a double click, or the timeout sweep, cannot answer twice.
        answered = Ask.objects.filter(
            pk=ask.pk, status=Ask.Status.PENDING, deadline__gt=now
        ).update(status=new_status, answered_at=now, decline_reason=reason.strip()[:300])
        if answered:
            fragments.advocates_changed([ask.advocate_id])
            fragments.scopes_changed(fragments.Scope.REFERENCES)  # the reps' lists
        if not answered:
            ask.refresh_from_db()
            if ask.status == Ask.Status.PENDING:
                raise ReferenceError(_("The time to answer has passed."))
            raise ReferenceError(
                _("You already answered: %(answer)s.")
                % {"answer": in_sentence(ask.get_status_display())}
            )
        if not accept:
            advocates_changed()  # free again for other requests
        if accept:
            request.status = ReferenceRequest.Status.SCHEDULED
            request.accepted_at = now
            # A request the rep asked about directly never had a prospect link: the
            # prospect's call page needs one now.
            request.link_nonce = request.link_nonce or secrets.token_hex(8)
            request.save(update_fields=["status", "accepted_at", "link_nonce"])
            enqueue_after_commit("references.tasks.intro_send", ask.pk)
            events.emit(
                "reference.ask_accepted",
                {
                    "ask": ask.pk,
                    "request": request.pk,
                    "advocate": advocate.pk,
                    "advocate_email": advocate.user.email,
                    "rep": request.rep_id,
                    "prospect_company": request.prospect_company,
                    "accepted_at": now.isoformat(),
                },
            )
    if not accept:
        _advance(ask.request_id)
    ask.refresh_from_db()
    return ask


def asks_expire(*, now: datetime | None = None) -> int:
    """Time out every pending ask past its deadline and move each request on."""
    now = now or timezone.now()
    expired = 0
    overdue = list(
        Ask.objects.filter(status=Ask.Status.PENDING, deadline__lte=now)
        .order_by("deadline", "id")
        .values_list("pk", "request_id", "advocate_id")
    )
    for ask_id, request_id, advocate_id in overdue:
        with transaction.atomic():
            request_locked(request_id)
            if not Ask.objects.filter(pk=ask_id, status=Ask.Status.PENDING).update(
                status=Ask.Status.EXPIRED, answered_at=now
            ):
                continue  # answered in the meantime
            advocates_changed()  # free again for other requests
            fragments.advocates_changed([advocate_id])
            fragments.scopes_changed(fragments.Scope.REFERENCES)  # the reps' lists
        expired += 1
        _advance(request_id)
    return expired
