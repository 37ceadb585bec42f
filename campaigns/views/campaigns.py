"""Composing and sending campaigns (managers) and the public links in every email.

Console: list, new/edit, detail with live progress (htmx polling) and a preview for one
recipient, and the start/pause/resume/cancel actions. Public (signed tokens, no login):
one-click unsubscribe (RFC 8058), the open pixel and the click redirect.
"""

from __future__ import annotations

import base64
from itertools import islice
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from campaigns import segments, selectors
from campaigns.forms import CampaignForm
from campaigns.kinds import EDITABLE
from campaigns.models import Campaign, CampaignMessage
from campaigns.sending.render import render_message
from campaigns.sending.tracking import token_read
from campaigns.services import campaigns as campaign_services
from core.models import ProgramSettings
from core.roles import manager_required, public

PAGE_SIZE = 25
PREVIEW_CHOICES = 25
# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@manager_required
@require_GET
def campaign_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.campaigns_listed(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "campaigns/campaign_list.html", {"page": page})


def _save(request: AuthenticatedHttpRequest, form: CampaignForm, *, created: bool) -> HttpResponse:
    """Save the form and act on "when", then show the campaign's page."""
    campaign = form.save(commit=False)
    send = form.cleaned_data["send"]
    if created:
        campaign.created_by = request.user
    if campaign.status == Campaign.Status.SCHEDULED and send != "schedule":
        campaign.status = Campaign.Status.DRAFT
    if not campaign_services.campaign_save(campaign=campaign, created=created):
        messages.error(request, _("This campaign started meanwhile: it can no longer be edited."))
        return redirect("campaigns:campaign_detail", pk=campaign.pk)
    try:
        if send == "now":
            # The progress section says "Sending to N recipients." while it sends: a flash
            # would stay above the bar after it finished.
            campaign_services.campaign_start(campaign=campaign, actor=request.user)
        elif send == "schedule":
            campaign_services.campaign_schedule(
                campaign=campaign, at=form.cleaned_data["scheduled_at"], actor=request.user
            )
            messages.success(
                request,
                _("Scheduled for %(when)s UTC.")
                % {"when": date_format(campaign.scheduled_at, "DATETIME_FORMAT")},
            )
        else:
            messages.success(request, _("Draft saved."))
    except campaign_services.CampaignStateError as error:
        messages.error(request, _("Saved as a draft, not sent: %(error)s") % {"error": error})
    return redirect("campaigns:campaign_detail", pk=campaign.pk)


@manager_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    kind = request.GET.get("kind")
    initial: dict[str, Any] = {
        "kind": kind if kind in Campaign.Kind.values else Campaign.Kind.REFERRAL_DRIVE
    }
    segment = request.GET.get("segment")
    if segment and segment.isdigit():
        initial["segment"] = int(segment)
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        return _save(request, form, created=True)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


@manager_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status not in EDITABLE:
        messages.error(request, _("A campaign that has started cannot be edited."))
        return redirect("campaigns:campaign_detail", pk=campaign.pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        return _save(request, form, created=False)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


def _preview_recipients(campaign: Campaign) -> list[CampaignMessage]:
    """A few recipients to preview with: its messages once started, else its audience."""
    if campaign.status not in EDITABLE:
        return list(
            CampaignMessage.objects.filter(campaign=campaign).order_by("id")[:PREVIEW_CHOICES]
        )
    try:
        rows = list(islice(selectors.campaign_recipient_rows(campaign), PREVIEW_CHOICES))
    except segments.SegmentFilterError:
        return []  # a broken filter: start_problems says so, the page still shows
    return [
        CampaignMessage(
            campaign=campaign,
            advocate_id=advocate_id,
            email=email.lower(),
            first_name=first or "",
            last_name=last or "",
            context=context or {},
        )
        for advocate_id, email, first, last, context in rows
    ]


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("segment", "challenge", "created_by"), pk=pk
    )


@manager_required
@require_GET
def campaign_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    progress = selectors.campaign_progress(campaign.pk)
    context = {
        "campaign": campaign,
        "progress": progress,
        "outcome": selectors.campaign_outcome(progress),
    }
    if request.htmx:
        return render(request, "campaigns/campaign_detail.html#progress", context)
    context["recipients"] = _preview_recipients(campaign)
    context["problems"] = (
        campaign_services.start_problems(campaign) if campaign.status in EDITABLE else []
    )
    return render(request, "campaigns/campaign_detail.html", context)


@manager_required
@require_GET
def campaign_preview(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    recipients = _preview_recipients(campaign)
    chosen = request.GET.get("to", "").lower()
    message = next((r for r in recipients if r.email == chosen), None) or (
        recipients[0] if recipients else None
    )
    rendered = None
    if message is not None:
        message.campaign = campaign
        rendered = render_message(
            campaign=campaign, message=message, program=ProgramSettings.load(), track=False
        )
    context = {
        "campaign": campaign,
        "recipients": recipients,
        "message": message,
        "rendered": rendered,
    }
    template = "campaigns/campaign_preview.html"
    return render(request, f"{template}#preview" if request.htmx else template, context)


_ACTIONS = {
    # Starting and resuming need no flash: the progress section says it is sending, and
    # stops saying so when it is done.
    "start": (campaign_services.campaign_start, None),
    "pause": (
        campaign_services.campaign_pause,
        gettext_lazy("Paused: nothing more is sent until you resume."),
    ),
    "resume": (campaign_services.campaign_resume, None),
    "cancel": (
        campaign_services.campaign_cancel,
        gettext_lazy("Cancelled: the remaining recipients get nothing."),
    ),
}


def _act(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    campaign = _campaign(pk)
    service, done = _ACTIONS[action]
    try:
        service(campaign=campaign, actor=request.user)
        if done:
            messages.success(request, done)
    except campaign_services.CampaignStateError as error:
        messages.error(request, str(error))
    return redirect("campaigns:campaign_detail", pk=campaign.pk)


@manager_required
@require_POST
def campaign_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "start")


@manager_required
@require_POST
def campaign_pause(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "pause")


@manager_required
@require_POST
def campaign_resume(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "resume")


@manager_required
@require_POST
def campaign_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "cancel")


# --- Public: the links in every email -------------------------------------------------


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/link_invalid.html", status=400)


@public
@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" without a form
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: confirm (a link scanner's GET must not unsubscribe anyone); POST: unsubscribe."""
    found = token_read("unsubscribe", token)
    message = (
        CampaignMessage.objects.select_related("campaign").filter(pk=found[0]).first()
        if found
        else None
    )
    if message is None:
        return _invalid(request)
    if request.method == "POST":
        campaign_services.message_unsubscribe(message_id=message.pk)
        return render(request, "campaigns/unsubscribed.html", {"message": message})
    return render(request, "campaigns/unsubscribe.html", {"message": message, "token": token})


@public
@never_cache
@require_GET
def track_open(request: HttpRequest, token: str) -> HttpResponse:
    found = token_read("open", token)
    if found is None:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    campaign_services.message_opened(message_id=found[0])
    return HttpResponse(PIXEL, content_type="image/gif")


@public
@never_cache
@require_GET
def track_click(request: HttpRequest, token: str) -> HttpResponse:
    """Record the click, then go to the URL signed in the token — and only there."""
    found = token_read("click", token)
    if found is None or not found[1].startswith(("https://", "http://")):
        return _invalid(request)
    if not campaign_services.message_clicked(message_id=found[0]):
        return _invalid(request)
    return HttpResponseRedirect(found[1])
