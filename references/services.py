"""Writes for reference calls: requests, the prospect's link and choice, asks and their
answers, the call, feedback and influenced revenue.

The burnout guard holds under concurrency because every ask is created by
``_reserve``, which locks the advocate's row (``select_for_update``) before it counts
the advocate's calls: two reps asking for the same advocate at once are served one
after the other, and the second sees the first's ask. The partial unique constraint
"one pending ask per advocate" backs it in the database.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from advocates.models import Advocate, Person, Product, Tag, User
from advocates.services.graph import person_get_or_create
from core import events
from core.audit import audit_record
from core.outbox import activity_after_commit, enqueue_after_commit
from references import matching
from references.links import CHOICE_SALT
from references.matching.band import advocates_changed
from references.matching.guard import available_advocates, unavailable_reason
from references.models import (
    Ask,
    Candidate,
    MatchingWeights,
    ReferencePause,
    ReferenceRequest,
)
from rewards.services.ledger import LedgerError, points_award

FEEDBACK_LINK_DAYS = 30
DEFAULT_CALL_POINTS = 250


class ReferenceError(Exception):
    """A refused action; the message is shown to the user as it is."""


class LinkInvalid(ReferenceError):
    pass


class LinkExpired(ReferenceError):
    pass


def call_points() -> int:
    return int(getattr(settings, "REFERENCE_CALL_POINTS", DEFAULT_CALL_POINTS))


# --- Requests ---------------------------------------------------------------------------


def request_create(
    *,
    rep: User,
    prospect_name: str,
    prospect_email: str,
    prospect_company: str,
    opportunity_name: str,
    opportunity_amount: Decimal,
    opportunity_stage: str,
    call_type: str,
    needed_by: date,
    prospect_title: str = "",
    prospect_seniority: str = "",
    prospect_industry: str = "",
    prospect_company_size: str = "",
    products: list[Product] | None = None,
    topics: list[Tag] | None = None,
    notes: str = "",
) -> ReferenceRequest:
    if needed_by < timezone.localdate():
        raise ReferenceError("The needed-by date is in the past.")
    if opportunity_amount < 0:
        raise ReferenceError("The opportunity amount cannot be negative.")
    with transaction.atomic():
        # The prospect joins the graph, so existing paths to them are found.
        person = person_get_or_create(
            full_name=prospect_name,
            email=prospect_email,
            company_name=prospect_company,
            title=prospect_title,
            kind=Person.Kind.PROSPECT,
        )
        request = ReferenceRequest.objects.create(
            rep=rep,
            prospect_name=prospect_name.strip(),
            prospect_email=prospect_email.strip().lower(),
            prospect_company=prospect_company.strip(),
            prospect_title=prospect_title.strip(),
            prospect_seniority=prospect_seniority,
            prospect_industry=prospect_industry.strip(),
            prospect_company_size=prospect_company_size,
            prospect_person=person,
            opportunity_name=opportunity_name.strip(),
            opportunity_amount=opportunity_amount,
            opportunity_stage=opportunity_stage,
            call_type=call_type,
            needed_by=needed_by,
            notes=notes.strip(),
        )
        request.products.set(products or [])
        request.topics.set(topics or [])
    return request


def _locked(request_id: int) -> ReferenceRequest:
    return ReferenceRequest.objects.select_for_update().get(pk=request_id)


# --- The prospect's link ------------------------------------------------------------------


def request_from_token(pk: int, token: str, *, purpose: str = CHOICE_SALT) -> ReferenceRequest:
    """The request this link was made for, or LinkInvalid / LinkExpired.

    The token is signed with a salt per purpose, so a feedback link opens no choice
    page; it names its request, so it opens no other request's page; it carries the
    nonce of the last send, so a link replaced by a newer one stops working.
    """
    if purpose == CHOICE_SALT:
        max_age = timedelta(days=MatchingWeights.current().link_days)
    else:
        max_age = timedelta(days=FEEDBACK_LINK_DAYS)
    try:
        data = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired(
            "This link has expired. Ask your sales contact to send you a new one."
        ) from None
    except signing.BadSignature:
        raise LinkInvalid("This link is not valid. Check that you copied all of it.") from None
    if not isinstance(data, dict) or data.get("r") != pk:
        raise LinkInvalid("This link is not valid for this page.")
    request = (
        ReferenceRequest.objects.select_related("rep")
        .filter(pk=pk, link_nonce=data.get("n") or "-")
        .first()
    )
    if request is None:
        raise LinkInvalid(
            "This link was replaced by a newer one: use the link in the latest email."
        )
    if request.status == ReferenceRequest.Status.CANCELLED:
        raise LinkInvalid("This reference request was withdrawn by your sales contact.")
    return request


def request_send_to_prospect(*, request: ReferenceRequest, by: User) -> ReferenceRequest:
    """Freeze the top matches as the prospect's shortlist and email them a fresh link."""
    sendable = (
        ReferenceRequest.Status.OPEN,
        ReferenceRequest.Status.WITH_PROSPECT,
        ReferenceRequest.Status.NEEDS_REP,
    )
    weights = MatchingWeights.current()
    with transaction.atomic():
        request = _locked(request.pk)
        if request.status not in sendable:
            raise ReferenceError(
                f"This request is “{request.get_status_display()}”: the prospect cannot choose now."
            )
        matches = matching.rank(request, limit=weights.shortlist_size, weights=weights)
        if not matches:
            raise ReferenceError(
                "No advocate is available for this request right now, so there is "
                "nothing to send. Try again later or widen the request."
            )
        # The shortlist shown before is replaced; advocates already asked stay on record.
        request.candidates.all().delete()
        Candidate.objects.bulk_create(
            Candidate(
                request=request,
                advocate=match.advocate,
                rank=index,
                score=match.score,
                reasons=match.rep_reasons,
                public_reasons=match.public_reasons,
            )
            for index, match in enumerate(matches, start=1)
        )
        request.link_nonce = secrets.token_hex(8)
        request.link_send_count += 1
        request.link_sent_at = timezone.now()
        request.status = ReferenceRequest.Status.WITH_PROSPECT
        request.save(
            update_fields=["link_nonce", "link_send_count", "link_sent_at", "status", "updated_at"]
        )
        audit_record(
            actor=by,
            action="reference.send_to_prospect",
            target=request,
            detail={"shortlist": [match.advocate.pk for match in matches]},
        )
        enqueue_after_commit(
            "references.tasks.prospect_link_send", request.pk, request.link_send_count
        )
    return request


def prospect_choose(*, request: ReferenceRequest, candidate_id: int) -> Ask:
    """The prospect picks one advocate of their shortlist: that advocate is asked."""
    with transaction.atomic():
        request = _locked(request.pk)
        if request.status != ReferenceRequest.Status.WITH_PROSPECT:
            raise ReferenceError("Your choice is already recorded.")
        candidate = request.candidates.filter(pk=candidate_id).first()
        if candidate is None:
            raise ReferenceError("Pick one of the people on this page.")
        ask = _reserve(request=request, advocate_id=candidate.advocate_id)
        Candidate.objects.filter(pk=candidate.pk).update(chosen_at=timezone.now())
    return ask


def prospect_more_options(*, request: ReferenceRequest) -> ReferenceRequest:
    """The prospect wants other people: the request goes back to the rep."""
    with transaction.atomic():
        request = _locked(request.pk)
        if request.status != ReferenceRequest.Status.WITH_PROSPECT:
            raise ReferenceError("Your choice is already recorded.")
        request.status = ReferenceRequest.Status.NEEDS_REP
        request.more_options_asked_at = timezone.now()
        request.save(update_fields=["status", "more_options_asked_at", "updated_at"])
        _notify_rep(request, "more_options")
    return request


# --- Asking an advocate -----------------------------------------------------------------


def _reserve(*, request: ReferenceRequest, advocate_id: int) -> Ask:
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
        raise ReferenceError("This advocate no longer exists.")
    why_not = unavailable_reason(advocate, now)
    if why_not:
        raise ReferenceError(why_not)
    if Ask.objects.filter(request=request, advocate=advocate).exists():
        raise ReferenceError(f"{advocate.name} was already asked for this request.")
    if Ask.objects.filter(request=request, status__in=Ask.IN_FLIGHT).exists():
        raise ReferenceError("An advocate is already asked or agreed for this request.")
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
        raise ReferenceError(f"{advocate.name} was asked by someone else a moment ago.") from None
    request.status = ReferenceRequest.Status.ASKED
    request.matched_at = request.matched_at or now
    request.save(update_fields=["status", "matched_at", "updated_at"])
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
        request = _locked(request.pk)
        if request.status not in askable:
            raise ReferenceError(
                f"This request is “{request.get_status_display()}”: no new advocate can be asked."
            )
        return _reserve(request=request, advocate_id=advocate_id)


def _advance(request_id: int) -> Ask | None:
    """After a decline or a timeout: ask the prospect's next choice, else tell the rep.

    The next choice is the next advocate of the shortlist, in the order shown, that
    has not been asked and that the guard lets through now.
    """
    with transaction.atomic():
        request = _locked(request_id)
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
                    return _reserve(request=request, advocate_id=candidate.advocate_id)
            except ReferenceError:
                continue
        request.status = ReferenceRequest.Status.NEEDS_REP
        request.save(update_fields=["status", "updated_at"])
        _notify_rep(request, "no_choice_left")
    return None


def ask_answer(*, ask_id: int, advocate: Advocate, accept: bool, reason: str = "") -> Ask:
    """The advocate accepts or declines. Someone else's ask does not exist for them."""
    now = timezone.now()
    ask = Ask.objects.filter(pk=ask_id, advocate=advocate).first()
    if ask is None:
        raise Ask.DoesNotExist
    new_status = Ask.Status.ACCEPTED if accept else Ask.Status.DECLINED
    with transaction.atomic():
        request = _locked(ask.request_id)
        # Conditional update: a double click, or the timeout sweep, cannot answer twice.
        answered = Ask.objects.filter(
            pk=ask.pk, status=Ask.Status.PENDING, deadline__gt=now
        ).update(status=new_status, answered_at=now, decline_reason=reason.strip()[:300])
        if not answered:
            ask.refresh_from_db()
            if ask.status == Ask.Status.PENDING:
                raise ReferenceError("The time to answer has passed.")
            raise ReferenceError(f"You already answered: {ask.get_status_display().lower()}.")
        if not accept:
            advocates_changed()  # free again for other requests
        if accept:
            request.status = ReferenceRequest.Status.SCHEDULED
            request.accepted_at = now
            request.save(update_fields=["status", "accepted_at", "updated_at"])
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
        .values_list("pk", "request_id")
    )
    for ask_id, request_id in overdue:
        with transaction.atomic():
            _locked(request_id)
            if not Ask.objects.filter(pk=ask_id, status=Ask.Status.PENDING).update(
                status=Ask.Status.EXPIRED, answered_at=now
            ):
                continue  # answered in the meantime
            advocates_changed()  # free again for other requests
        expired += 1
        _advance(request_id)
    return expired


# --- After the call ---------------------------------------------------------------------


def call_record(*, request: ReferenceRequest, completed: bool) -> Ask:
    """The rep marks the agreed call done (points, once) or a no-show."""
    now = timezone.now()
    with transaction.atomic():
        request = _locked(request.pk)
        ask = (
            request.asks.select_related("advocate__user").filter(status=Ask.Status.ACCEPTED).first()
        )
        if ask is None or request.status != ReferenceRequest.Status.SCHEDULED:
            raise ReferenceError("There is no agreed call to mark on this request.")
        status = Ask.Status.COMPLETED if completed else Ask.Status.NO_SHOW
        Ask.objects.filter(pk=ask.pk, status=Ask.Status.ACCEPTED).update(
            status=status, completed_at=now
        )
        if not completed:
            advocates_changed()  # a missed call does not count toward the cap
        request.status = (
            ReferenceRequest.Status.COMPLETED if completed else ReferenceRequest.Status.NO_SHOW
        )
        request.completed_at = now
        request.save(update_fields=["status", "completed_at", "updated_at"])
        if completed:
            points = call_points()
            if points > 0:
                try:
                    points_award(
                        advocate_id=ask.advocate_id,
                        amount=points,
                        reason=f"Reference call with {request.prospect_company}",
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
                    "completed_at": now.isoformat(),
                },
            )
    ask.refresh_from_db()
    return ask


def advocate_feedback_give(*, ask_id: int, advocate: Advocate, rating: int, text: str) -> Ask:
    if not 1 <= rating <= 5:
        raise ReferenceError("Rate the call from 1 to 5.")
    updated = Ask.objects.filter(
        pk=ask_id,
        advocate=advocate,
        status=Ask.Status.COMPLETED,
        advocate_feedback_at__isnull=True,
    ).update(
        advocate_rating=rating, advocate_feedback=text.strip(), advocate_feedback_at=timezone.now()
    )
    if not updated:
        if not Ask.objects.filter(pk=ask_id, advocate=advocate).exists():
            raise Ask.DoesNotExist
        raise ReferenceError("Feedback is for calls marked done, once.")
    return Ask.objects.get(pk=ask_id)


def prospect_feedback_give(*, request: ReferenceRequest, rating: int, text: str) -> None:
    if not 1 <= rating <= 5:
        raise ReferenceError("Rate the call from 1 to 5.")
    if request.status != ReferenceRequest.Status.COMPLETED:
        raise ReferenceError("Feedback opens once the call has taken place.")
    updated = ReferenceRequest.objects.filter(
        pk=request.pk,
        status=ReferenceRequest.Status.COMPLETED,
        prospect_feedback_at__isnull=True,
    ).update(
        prospect_rating=rating,
        prospect_feedback=text.strip(),
        prospect_feedback_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not updated:
        raise ReferenceError("Thank you: your feedback is already recorded.")


def opportunity_close(
    *,
    request: ReferenceRequest,
    won: bool,
    won_amount: Decimal | None = None,
    closed_on: date | None = None,
    by: User | None = None,
) -> ReferenceRequest:
    """Record the deal's outcome; a won deal after a reference call is influenced revenue.

    Callable by the rep's form and by the CRM sync; recording the same outcome again
    changes nothing, a different one corrects it.
    """
    closed_on = closed_on or timezone.localdate()
    if won and (won_amount is None or won_amount < 0):
        raise ReferenceError("Enter the amount won.")
    created_on = timezone.localtime(request.created_at).date()
    if closed_on < created_on:
        raise ReferenceError("The close date is before the request was made.")
    if closed_on > timezone.localdate():
        raise ReferenceError("The close date is in the future.")
    with transaction.atomic():
        request = _locked(request.pk)
        request.outcome = ReferenceRequest.Outcome.WON if won else ReferenceRequest.Outcome.LOST
        request.won_amount = won_amount if won else None
        request.closed_on = closed_on
        request.days_to_close = (closed_on - created_on).days
        request.save(
            update_fields=["outcome", "won_amount", "closed_on", "days_to_close", "updated_at"]
        )
        if by is not None:
            audit_record(
                actor=by,
                action="reference.close",
                target=request,
                detail={
                    "outcome": request.outcome,
                    "won_amount": str(request.won_amount)
                    if request.won_amount is not None
                    else None,
                    "closed_on": closed_on.isoformat(),
                },
            )
    return request


# --- Advocates' own settings and managers' weights --------------------------------------


def reference_pause_set(*, advocate: Advocate, until: date | None) -> None:
    if until is not None and until < timezone.localdate():
        raise ReferenceError("Pick a date from today on.")
    with transaction.atomic():
        if until is None:
            ReferencePause.objects.filter(advocate=advocate).delete()
            advocates_changed()  # askable again
        else:
            ReferencePause.objects.update_or_create(advocate=advocate, defaults={"until": until})


def weights_update(*, by: User, **values: int) -> MatchingWeights:
    with transaction.atomic():
        weights = MatchingWeights.objects.select_for_update().get_or_create(pk=1)[0]
        before = {name: getattr(weights, name) for name in values}
        for name, value in values.items():
            setattr(weights, name, value)
        weights.updated_by = by
        weights.full_clean()
        weights.save()
        audit_record(
            actor=by,
            action="reference.weights",
            target=weights,
            detail={
                name: [before[name], value]
                for name, value in values.items()
                if before[name] != value
            },
        )
    return weights


# --- Notices ----------------------------------------------------------------------------


def _notify_rep(request: ReferenceRequest, why: str) -> None:
    """Queue a "needs you" email to the rep (called under the request's row lock)."""
    request.rep_notice_count += 1
    request.save(update_fields=["rep_notice_count"])
    enqueue_after_commit(
        "references.tasks.rep_notice_send", request.pk, why, request.rep_notice_count
    )
