"""Requests, the prospect's link and choice, the deal's outcome, advocates' pauses and
managers' weights.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Advocate, Person, Product, Tag, User
from advocates.services.graph import person_get_or_create
from core.audit import audit_record
from core.i18n import speaking_to
from core.outbox import enqueue_after_commit
from references import matching
from references.links import CALL_SALT, CHOICE_SALT
from references.matching.band import advocates_changed
from references.models import (
    Ask,
    Candidate,
    MatchingWeights,
    ReferencePause,
    ReferenceRequest,
)
from references.services.asks import ask_reserve
from references.services.base import (
    CALL_LINK_DAYS,
    FEEDBACK_LINK_DAYS,
    LinkExpired,
    LinkInvalid,
    ReferenceError,
    rep_notify,
    request_locked,
)


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
        raise ReferenceError(_("The needed-by date is in the past."))
    if opportunity_amount < 0:
        raise ReferenceError(_("The opportunity amount cannot be negative."))
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


# --- The prospect's link ------------------------------------------------------------------


def request_from_token(pk: int, token: str, *, purpose: str = CHOICE_SALT) -> ReferenceRequest:
    """The request this link was made for, or LinkInvalid / LinkExpired.

    The token is signed with a salt per purpose, so a feedback link opens no choice
    page; it names its request, so it opens no other request's page; it carries the
    nonce of the last send, so a link replaced by a newer one stops working.
    """
    if purpose == CHOICE_SALT:
        max_age = timedelta(days=MatchingWeights.current().link_days)
    elif purpose == CALL_SALT:
        max_age = timedelta(days=CALL_LINK_DAYS)
    else:
        max_age = timedelta(days=FEEDBACK_LINK_DAYS)
    try:
        data = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired(
            _("This link has expired. Ask your sales contact to send you a new one.")
        ) from None
    except signing.BadSignature:
        raise LinkInvalid(_("This link is not valid. Check that you copied all of it.")) from None
    if not isinstance(data, dict) or data.get("r") != pk:
        raise LinkInvalid(_("This link is not valid for this page."))
    request = (
        ReferenceRequest.objects.select_related("rep")
        .filter(pk=pk, link_nonce=data.get("n") or "-")
        .first()
    )
    if request is None:
        raise LinkInvalid(
            _("This link was replaced by a newer one: use the link in the latest email.")
        )
    if request.status == ReferenceRequest.Status.CANCELLED:
        raise LinkInvalid(_("This reference request was withdrawn by your sales contact."))
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
        request = request_locked(request.pk)
        if request.status not in sendable:
            raise ReferenceError(
                _("This request is “%(status)s”: the prospect cannot choose now.")
                % {"status": request.get_status_display()}
            )
        # The reasons are kept for the prospect, who has no account: the site's language.
        with speaking_to(None):
            matches = matching.rank(request, limit=weights.shortlist_size)
        if not matches:
            raise ReferenceError(
                _(
                    "No advocate is available for this request right now, so there is "
                    "nothing to send. Try again later or widen the request."
                )
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
        request.save(update_fields=["link_nonce", "link_send_count", "link_sent_at", "status"])
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
        request = request_locked(request.pk)
        if request.status != ReferenceRequest.Status.WITH_PROSPECT:
            raise ReferenceError(_("Your choice is already recorded."))
        candidate = request.candidates.filter(pk=candidate_id).first()
        if candidate is None:
            raise ReferenceError(_("Pick one of the people on this page."))
        ask = ask_reserve(request=request, advocate_id=candidate.advocate_id)
        Candidate.objects.filter(pk=candidate.pk).update(chosen_at=timezone.now())
    return ask


def prospect_more_options(*, request: ReferenceRequest) -> ReferenceRequest:
    """The prospect wants other people: the request goes back to the rep."""
    with transaction.atomic():
        request = request_locked(request.pk)
        if request.status != ReferenceRequest.Status.WITH_PROSPECT:
            raise ReferenceError(_("Your choice is already recorded."))
        request.status = ReferenceRequest.Status.NEEDS_REP
        request.more_options_asked_at = timezone.now()
        request.save(update_fields=["status", "more_options_asked_at"])
        rep_notify(request, "more_options")
    return request


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
        raise ReferenceError(_("Enter the amount won."))
    created_on = timezone.localtime(request.created_at).date()
    if closed_on < created_on:
        raise ReferenceError(_("The close date is before the request was made."))
    if closed_on > timezone.localdate():
        raise ReferenceError(_("The close date is in the future."))
    with transaction.atomic():
        request = request_locked(request.pk)
        request.outcome = ReferenceRequest.Outcome.WON if won else ReferenceRequest.Outcome.LOST
        request.won_amount = won_amount if won else None
        request.closed_on = closed_on
        request.days_to_close = (closed_on - created_on).days
        request.save(update_fields=["outcome", "won_amount", "closed_on", "days_to_close"])
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
        raise ReferenceError(_("Pick a date from today on."))
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
