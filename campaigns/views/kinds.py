"""Pages of the campaign kinds: invitation contacts, reference-drive prospects and their
pairings, a campaign's trigger, and the hub's referral drives.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.selectors import advocate_for_user
from campaigns import selectors
from campaigns.forms import CsvUploadForm, DriveReferralForm, PairForm, TriggerForm
from campaigns.kinds import EDITABLE, REFERRAL_DRIVE_ACTIVE
from campaigns.models import Campaign, CampaignContact
from campaigns.selectors import referral_drives_context
from campaigns.services import kinds as services
from core.roles import advocate_required, manager_required
from referrals.models import Stage
from referrals.services import ReferralError

PAGE_SIZE = 50


def _campaign(pk: int, kind: str | None = None) -> Campaign:
    campaigns = Campaign.objects.select_related("segment", "challenge", "trigger_level")
    if kind is not None:
        campaigns = campaigns.filter(kind=kind)
    return get_object_or_404(campaigns, pk=pk)


# --- Program invitations: contacts ------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def contacts(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk, Campaign.Kind.INVITATION)
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = services.campaign_contacts_import(
                campaign=campaign, file=form.cleaned_data["file"]
            )
        except services.KindError as error:
            form.add_error(None, str(error))
    page = Paginator(
        CampaignContact.objects.filter(campaign=campaign).order_by("id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/kinds_contacts.html",
        {
            "campaign": campaign,
            "form": form,
            "report": report,
            "page": page,
            "columns": ",".join(services.CONTACT_COLUMNS),
            "editable": campaign.status in EDITABLE,
        },
    )


# --- Reference drives: prospects and pairings -------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def prospects(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk, Campaign.Kind.REFERENCE_DRIVE)
    action = request.POST.get("action", "")
    form = CsvUploadForm(
        request.POST if action == "import" else None,
        request.FILES if action == "import" else None,
    )
    pair_form = PairForm(request.POST if action == "pair" else None)
    report = pairing = None
    try:
        if action == "import" and form.is_valid():
            report = services.campaign_prospects_import(
                campaign=campaign, file=form.cleaned_data["file"]
            )
        elif action == "pair" and pair_form.is_valid():
            pairing = services.campaign_prospects_pair(
                campaign=campaign, max_per_advocate=pair_form.cleaned_data["max_per_advocate"]
            )
    except services.KindError as error:
        (pair_form if action == "pair" else form).add_error(None, str(error))
    counts = selectors.campaign_prospects_counts(campaign)
    page = Paginator(selectors.campaign_prospects(campaign), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "campaigns/kinds_prospects.html",
        {
            "campaign": campaign,
            "form": form,
            "pair_form": pair_form,
            "report": report,
            "pairing": pairing,
            "counts": counts,
            "page": page,
            "columns": ",".join(services.PROSPECT_COLUMNS),
            "editable": campaign.status in EDITABLE,
        },
    )


# --- Trigger ------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def trigger(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    action = request.POST.get("action", "save")
    form = TriggerForm(
        request.POST if request.method == "POST" and action == "save" else None,
        initial={
            "trigger": campaign.trigger,
            "trigger_level": campaign.trigger_level_id,
            "trigger_inactive_days": campaign.trigger_inactive_days,
        },
    )
    if request.method == "POST":
        try:
            if action == "start":
                services.campaign_trigger_start(campaign_id=campaign.pk)
                messages.success(request, _("The trigger is on: it fires for events from now on."))
                return redirect("campaigns:kinds_trigger", pk=campaign.pk)
            if action == "stop":
                services.campaign_trigger_stop(campaign_id=campaign.pk)
                messages.success(request, _("The trigger is stopped: it fires no more."))
                return redirect("campaigns:kinds_trigger", pk=campaign.pk)
            if form.is_valid():
                data = form.cleaned_data
                services.campaign_trigger_set(
                    campaign=campaign,
                    trigger=data["trigger"],
                    level=data["trigger_level"],
                    inactive_days=data["trigger_inactive_days"],
                )
                messages.success(request, _("Trigger saved."))
                return redirect("campaigns:kinds_trigger", pk=campaign.pk)
        except services.KindError as error:
            form.add_error(None, str(error))
    return render(
        request,
        "campaigns/kinds_trigger.html",
        {
            "campaign": campaign,
            "form": form,
            "fired": campaign.fires.count(),
            "editable": campaign.status in EDITABLE,
            "running": campaign.trigger and campaign.status in REFERRAL_DRIVE_ACTIVE,
        },
    )


# --- Prospect company events ------------------------------------------------------------


# --- The hub: referral drives -----------------------------------------------------------


@advocate_required
@require_POST
def drive_refer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One click in the hub's "Your referral drives" panel: the edited message goes out."""
    advocate = advocate_for_user(request.user)
    # Only a drive this advocate received exists for them.
    get_object_or_404(
        Campaign.objects.filter(
            kind=Campaign.Kind.REFERRAL_DRIVE, messages__advocate=advocate
        ).distinct(),
        pk=pk,
    )
    form = DriveReferralForm(request.POST)
    error = notice = ""
    if form.is_valid():
        try:
            referral = services.campaign_referral_send(
                campaign_id=pk, advocate=advocate, **form.cleaned_data
            )
        except (services.KindError, ReferralError) as problem:
            error = str(problem)
        else:
            if referral.stage == Stage.REJECTED:
                notice = _("%(name)s was already referred recently: no email was sent.") % {
                    "name": referral.referred_name
                }
            else:
                notice = _("Your email to %(name)s is on its way. Thank you!") % {
                    "name": referral.referred_name
                }
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.htmx:
        context = referral_drives_context(advocate) | {
            "sent_drive": pk,
            "error": error,
            "notice": notice,
            "form_data": {name: form.data.get(name, "") for name in form.fields} if error else None,
        }
        return render(request, "campaigns/partials/hub_drives.html#drives", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("advocates:hub")
