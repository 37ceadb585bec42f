"""Outgoing email for reference calls (called by tasks, after commit).

Each function re-reads the rows, skips what no longer applies, and records a delivery
with a conditional update, so a task run twice does not mail twice once it succeeded.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.mail import send_templated
from references.links import prospect_feedback_url, prospect_url
from references.models import Ask, ReferenceRequest


def _ask(ask_id: int) -> Ask | None:
    return (
        Ask.objects.select_related("advocate__user", "advocate__company", "request__rep")
        .filter(pk=ask_id)
        .first()
    )


def prospect_link_deliver(*, request_id: int, send_number: int) -> str:
    request = ReferenceRequest.objects.select_related("rep").filter(pk=request_id).first()
    if request is None or request.status != ReferenceRequest.Status.WITH_PROSPECT:
        return "skipped: no longer waiting for the prospect"
    if send_number != request.link_send_count or request.link_delivered_send >= send_number:
        return "skipped: superseded or delivered"
    send_templated(
        to=request.prospect_email,
        template="reference_prospect_link",
        context={
            "request": request,
            "url": prospect_url(request),
            "count": request.candidates.count(),
        },
    )
    ReferenceRequest.objects.filter(pk=request.pk, link_delivered_send__lt=send_number).update(
        link_delivered_send=send_number
    )
    return "sent"


def ask_deliver(*, ask_id: int) -> str:
    ask = _ask(ask_id)
    if ask is None or ask.status != Ask.Status.PENDING or ask.ask_emailed_at:
        return "skipped"
    send_templated(
        to=ask.advocate.user.email,
        template="reference_ask",
        context={
            "ask": ask,
            "request": ask.request,
            "url": settings.SITE_URL + reverse("references:my_requests"),
        },
    )
    Ask.objects.filter(pk=ask.pk, ask_emailed_at__isnull=True).update(ask_emailed_at=timezone.now())
    return "sent"


def intro_deliver(*, ask_id: int) -> str:
    """The introduction: one email to the prospect, one to the advocate (the rep in cc)."""
    ask = _ask(ask_id)
    if ask is None or ask.status != Ask.Status.ACCEPTED or ask.intro_emailed_at:
        return "skipped"
    request = ask.request
    context = {"ask": ask, "request": request, "advocate": ask.advocate, "rep": request.rep}
    send_templated(
        to=request.prospect_email,
        template="reference_intro_prospect",
        context=context | {"cc": request.rep.email},
    )
    send_templated(to=ask.advocate.user.email, template="reference_intro_advocate", context=context)
    Ask.objects.filter(pk=ask.pk, intro_emailed_at__isnull=True).update(
        intro_emailed_at=timezone.now()
    )
    return "sent"


def feedback_request_deliver(*, ask_id: int) -> str:
    ask = _ask(ask_id)
    if ask is None or ask.status != Ask.Status.COMPLETED or ask.feedback_emailed_at:
        return "skipped"
    request = ask.request
    send_templated(
        to=request.prospect_email,
        template="reference_feedback_prospect",
        context={
            "request": request,
            "advocate": ask.advocate,
            "url": prospect_feedback_url(request),
        },
    )
    send_templated(
        to=ask.advocate.user.email,
        template="reference_feedback_advocate",
        context={
            "request": request,
            "ask": ask,
            "url": settings.SITE_URL + reverse("references:my_requests"),
        },
    )
    Ask.objects.filter(pk=ask.pk, feedback_emailed_at__isnull=True).update(
        feedback_emailed_at=timezone.now()
    )
    return "sent"


def rep_notice_deliver(*, request_id: int, why: str, number: int) -> str:
    request = ReferenceRequest.objects.select_related("rep").filter(pk=request_id).first()
    if request is None or request.status != ReferenceRequest.Status.NEEDS_REP:
        return "skipped: the request moved on"
    if request.rep_notice_delivered >= number:
        return "skipped: delivered"
    send_templated(
        to=request.rep.email,
        template="reference_rep_notice",
        context={
            "request": request,
            "why": why,
            "url": settings.SITE_URL + reverse("references:request_detail", args=[request.pk]),
        },
    )
    ReferenceRequest.objects.filter(pk=request.pk, rep_notice_delivered__lt=number).update(
        rep_notice_delivered=number
    )
    return "sent"
