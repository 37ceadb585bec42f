"""Reference drives (reps and managers start them, advocates pick among three suggested
prospects or pass) and the matching weights per industry (managers)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.selectors import advocate_for_user
from core.roles import advocate_required, manager_required, staff_required
from references import selectors, services
from references.forms import (
    DriveForm,
    IndustryWeightsForm,
)
from references.models import (
    Ask,
    IndustryWeights,
    MatchingWeights,
    ReferenceDrive,
    ScoringWeights,
)
from references.views import PAGE_SIZE, _sees_all


@manager_required
@require_http_methods(["GET", "POST"])
def industry_weights_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _industry_weights_form(request, None)


@manager_required
@require_http_methods(["GET", "POST"])
def industry_weights_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _industry_weights_form(request, get_object_or_404(IndustryWeights, pk=pk))


def _industry_weights_form(
    request: AuthenticatedHttpRequest, existing: IndustryWeights | None
) -> HttpResponse:
    if existing is not None and "delete" in request.POST:
        services.industry_weights_delete(by=request.user, weights=existing)
        messages.success(
            request,
            _("%(industry)s requests are matched with the program's weights.")
            % {"industry": existing.for_industry},
        )
        return redirect("references:weights")
    if existing is None:
        # A new set starts from the program's weights.
        program = MatchingWeights.current()
        initial = {name: getattr(program, name) for name in ScoringWeights.SCORING_FIELDS}
        form = IndustryWeightsForm(request.POST or None, initial=initial)
    else:
        form = IndustryWeightsForm(request.POST or None, instance=existing)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.industry_weights_save(
                by=request.user, weights=existing, **form.cleaned_data
            )
        except services.ReferenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Weights for %(industry)s saved: new matches use them now.")
                % {"industry": saved.for_industry},
            )
            return redirect("references:weights")
    return render(
        request,
        "references/industry_weights.html",
        {"form": form, "existing": existing},
    )


# --- Reference drives -------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def drives(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A rep's (a manager's: every) reference drive, and a form to start one."""
    see_all = _sees_all(request)
    offerable = selectors.drive_offerable_requests(request.user, see_all=see_all)
    form = DriveForm(request.POST or None, offerable=offerable)
    if request.method == "POST" and form.is_valid():
        try:
            drive = services.drive_create(
                by=request.user,
                name=form.cleaned_data["name"],
                requests=list(form.cleaned_data["requests"]),
                see_all=see_all,
            )
        except services.ReferenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("“%(name)s” is live: matching advocates see it on their hub.")
                % {"name": drive.name},
            )
            return redirect("references:drives")
    rows = selectors.drives_visible_to(request.user, see_all=see_all)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "references/drives.html",
        {
            "form": form,
            "page": page,
            "querystring": "",
            "has_offerable": offerable.exists(),
        },
    )


@staff_required
@require_POST
def drive_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scope = selectors.drives_visible_to(request.user, see_all=_sees_all(request))
    drive: ReferenceDrive = get_object_or_404(scope, pk=pk)
    try:
        services.drive_close(drive=drive, by=request.user)
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("“%(name)s” is closed: advocates no longer see it.") % {"name": drive.name}
        )
    return redirect("references:drives")


# --- Advocates ----------------------------------------------------------------------------


def _drive_answer(request: AuthenticatedHttpRequest, act, success: str) -> HttpResponse:
    """Run a pick or a pass; htmx gets the suggestions card back, others a redirect."""
    advocate = advocate_for_user(request.user)
    error = ""
    try:
        result = act(advocate)
    except services.ReferenceError as refused:
        error = str(refused)
        result = None
    if request.htmx:
        return render(
            request,
            "references/partials/drive_suggestions.html",
            {
                "suggestions": selectors.drive_suggestions(advocate),
                "picked": result if isinstance(result, Ask) else None,
                "error": error,
                "next": request.POST.get("next", ""),
            },
            status=409 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
        if isinstance(result, Ask):
            return redirect("references:ask_call", pk=result.pk)
    return redirect(
        "advocates:hub" if request.POST.get("next") == "hub" else "references:my_requests"
    )


@advocate_required
@require_POST
def drive_pick(request: AuthenticatedHttpRequest) -> HttpResponse:
    def pick(advocate) -> Ask:
        try:
            request_id = int(request.POST.get("request", ""))
        except ValueError:
            raise services.ReferenceError(_("Pick one of the suggested prospects.")) from None
        return services.drive_pick(advocate=advocate, request_id=request_id)

    return _drive_answer(
        request, pick, _("Thank you! The introduction is on its way to you both: now offer times.")
    )


@advocate_required
@require_POST
def drive_pass(request: AuthenticatedHttpRequest) -> HttpResponse:
    def skip(advocate) -> int:
        ids = [int(value) for value in request.POST.getlist("request") if value.isdigit()]
        return services.drive_pass(advocate=advocate, request_ids=ids)

    return _drive_answer(request, skip, _("No problem: we will not suggest these again."))
