"""The CRM pages: the console's CRM page (managers: connect, sync status, "sync now",
stage map, disconnect), the contacts to invite (managers, and reps for the contacts they
own), and the "Request a reference" link a CRM admin puts on the opportunity (reps and
managers)."""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from core.roles import Role, has_role, manager_required, staff_required
from integrations.crm import selectors, services
from integrations.crm.models import CrmConnection, CrmContact, CrmDeal, Provider
from references.forms import ReferenceRequestForm
from references.models import ReferenceRequest
from references.services import ReferenceError as RequestRefused

CANDIDATES_PAGE_SIZE = 50


def _provider_or_404(provider: str) -> str:
    if provider not in Provider.values:
        raise Http404("No such CRM.")
    return provider


class StageMapForm(forms.Form):
    """One line per CRM stage: ``CRM stage = submitted|qualified|opportunity``."""

    lines = forms.CharField(
        label=gettext_lazy("Open stages"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "One per line: the CRM's stage value, “=”, then submitted, qualified or "
            "opportunity. Closed deals are won or lost whatever their name."
        ),
    )

    def clean_lines(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not line.strip():
                continue
            stage, sep, target = line.rpartition("=")
            stage, target = stage.strip(), target.strip().lower()
            if not sep or not stage:
                raise forms.ValidationError(
                    _("Line %(number)s: write “CRM stage = %(target)s”.")
                    % {"number": number, "target": target}
                )
            if target not in services.STAGES:
                raise forms.ValidationError(
                    _("Line %(number)s: “%(target)s” is not submitted, qualified or opportunity.")
                    % {"number": number, "target": target}
                )
            mapping[stage[:100]] = target
        return mapping


def _stage_lines(mapping: dict[str, str]) -> str:
    return "\n".join(f"{stage} = {target}" for stage, target in mapping.items())


@manager_required
@require_GET
def crm_page(request: HttpRequest) -> HttpResponse:
    statuses = selectors.crm_statuses()
    for status in statuses:
        status.form = StageMapForm(initial={"lines": _stage_lines(status.stage_map)})  # type: ignore[attr-defined]
    return render(
        request,
        "integrations/crm.html",
        {
            "statuses": statuses,
            "sync_minutes": settings.CRM_SYNC_MINUTES,
            "reference_link": request.build_absolute_uri(
                reverse("integrations:crm_reference", args=["PROVIDER", "ID"])
            ),
        },
    )


@manager_required
@require_GET
def crm_connect(request: HttpRequest, provider: str) -> HttpResponse:
    provider = _provider_or_404(provider)
    try:
        return redirect(services.authorize_url(provider=provider, session=request.session))
    except services.CrmError as error:
        messages.error(request, str(error))
        return redirect("integrations:crm")


@manager_required
@require_GET
def crm_callback(request: AuthenticatedHttpRequest, provider: str) -> HttpResponse:
    provider = _provider_or_404(provider)
    if not services.CrmState(request.session).consume(request.GET.get("state", "")):
        messages.error(
            request,
            _(
                "That link was not started here, was used already or is older than 10 minutes: "
                "nothing was connected. Start again with “Connect”."
            ),
        )
        return redirect("integrations:crm")
    if request.GET.get("error"):
        messages.info(
            request,
            _("%(provider)s was not connected (cancelled there).")
            % {"provider": Provider(provider).label},
        )
        return redirect("integrations:crm")
    try:
        connection = services.connect_complete(
            provider=provider, code=request.GET.get("code", ""), by=request.user
        )
    except services.CrmError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Connected to %(connection)s. The first sync starts now.")
            % {"connection": connection},
        )
        services.sync_request(connection_id=connection.pk, by=request.user)
    return redirect("integrations:crm")


@manager_required
@require_POST
def crm_connect_jwt(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        connection = services.connect_jwt(by=request.user)
    except services.CrmError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Connected to %(connection)s. The first sync starts now.")
            % {"connection": connection},
        )
        services.sync_request(connection_id=connection.pk, by=request.user)
    return redirect("integrations:crm")


@manager_required
@require_POST
def crm_sync_now(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(CrmConnection, pk=pk)
    try:
        services.sync_request(connection_id=connection.pk, by=request.user)
    except services.CrmError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("A sync of %(connection)s has started; reload to follow it.")
            % {"connection": connection},
        )
    return redirect("integrations:crm")


@manager_required
@require_POST
def crm_stage_map(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(CrmConnection, pk=pk)
    form = StageMapForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.errors.get("lines", [_("Check the stage map.")]))
        )
        return redirect("integrations:crm")
    services.stage_map_set(
        connection_id=connection.pk, mapping=form.cleaned_data["lines"], by=request.user
    )
    messages.success(request, _("Stage map saved: the next sync moves referrals by it."))
    return redirect("integrations:crm")


@manager_required
@require_POST
def crm_disconnect(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(CrmConnection, pk=pk)
    services.disconnect(connection_id=connection.pk, by=request.user)
    messages.success(request, _("Disconnected from %(connection)s.") % {"connection": connection})
    return redirect("integrations:crm")


@manager_required
@require_GET
def crm_run(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    run = selectors.run_for(pk, run_pk)
    if run is None:
        raise Http404("No such sync run.")
    return render(request, "integrations/crm_run.html", {"run": run, "errors": run.errors.all()})


# --- Contacts to invite (managers: all; reps: the ones they own in the CRM) --------------


@staff_required
@require_GET
def crm_candidates(request: AuthenticatedHttpRequest) -> HttpResponse:
    sees_all = has_role(request.user, Role.MANAGER)
    page = Paginator(
        selectors.candidates(user=request.user, sees_all=sees_all), CANDIDATES_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "integrations/crm_candidates.html", {"page": page, "sees_all": sees_all})


@staff_required
@require_POST
def crm_candidate_invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contacts = selectors.candidates(
        user=request.user, sees_all=has_role(request.user, Role.MANAGER)
    )
    contact: CrmContact = get_object_or_404(contacts, pk=pk)
    try:
        services.contact_invite(contact=contact, by=request.user)
    except services.CrmError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s is invited (%(email)s).")
            % {"name": contact.full_name, "email": contact.email},
        )
    page = request.GET.get("page", "")
    return redirect(
        f"{reverse('integrations:crm_candidates')}?page={page if page.isdigit() else 1}"
    )


# --- "Request a reference" from the CRM record -------------------------------------------


def _request_stage(deal: CrmDeal) -> str:
    label = f"{deal.stage_label} {deal.stage}".lower()
    for words, stage in (
        (("negotiat", "contract", "review"), ReferenceRequest.Stage.NEGOTIATION),
        (("proposal", "quote", "price"), ReferenceRequest.Stage.PROPOSAL),
        (("prospect", "qualif", "discovery", "appointment"), ReferenceRequest.Stage.DISCOVERY),
    ):
        if any(word in label for word in words):
            return stage
    return ReferenceRequest.Stage.EVALUATION


def _initial(deal: CrmDeal | None, query: Any) -> dict[str, Any]:
    """The form's first values: the synced deal's, else what the CRM's link carried."""
    if deal is None:
        initial: dict[str, Any] = {"opportunity_name": query.get("name", "")[:200]}
        with contextlib.suppress(InvalidOperation):
            initial["opportunity_amount"] = Decimal(query.get("amount", ""))
        return initial
    initial = {
        "opportunity_name": deal.name,
        "opportunity_amount": deal.amount,
        "opportunity_stage": _request_stage(deal),
    }
    if deal.company is not None:
        company = deal.company.company
        initial |= {
            "prospect_company": company.name,
            "prospect_industry": company.industry,
            "prospect_company_size": company.size_band,
        }
    contact = selectors.deal_contact(deal)
    if contact is not None:
        initial |= {
            "prospect_name": contact.full_name,
            "prospect_email": contact.email,
            "prospect_title": contact.title,
        }
    return initial


@staff_required
@require_http_methods(["GET", "POST"])
def crm_reference(
    request: AuthenticatedHttpRequest, provider: str, external_id: str
) -> HttpResponse:
    provider = _provider_or_404(provider)
    deal = selectors.deal_for_link(provider=provider, external_id=external_id[:64])
    form = ReferenceRequestForm(request.POST or None, initial=_initial(deal, request.GET))
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_from_deal(deal=deal, rep=request.user, **form.cleaned_data)
        except RequestRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Request saved. Here are the best matches."))
            return redirect("references:request_detail", pk=created.pk)
    return render(
        request,
        "integrations/crm_reference.html",
        {"form": form, "deal": deal, "label": Provider(provider).label},
    )
