from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.selectors import advocate_for_user
from core.fragments import Scope, fragment
from core.roles import Role, advocate_required, has_role, manager_required, public, staff_required
from core.timezones import zone_or_default
from references import links, matching, selectors, services
from references.forms import (
    CloseForm,
    DeclineForm,
    FeedbackForm,
    MeetingTimeForm,
    PauseForm,
    ReferenceRequestForm,
    WeightsForm,
)
from references.models import (
    Ask,
    IndustryWeights,
    MatchingWeights,
    ReferenceRequest,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 25
CONSOLE_OPEN_REQUESTS = 10
MATCHES_SHOWN = 10


def _sees_all(request: HttpRequest) -> bool:
    return has_role(request.user, Role.MANAGER)


def _request_or_404(
    request: AuthenticatedHttpRequest, pk: int
) -> WithAnnotations[ReferenceRequest, selectors.WithAsks]:

    try:
        return selectors.request_for_staff(request.user, pk, see_all=_sees_all(request))
    except ReferenceRequest.DoesNotExist:
        raise Http404("No such reference request.") from None


# --- Reps and managers --------------------------------------------------------------------


# What the requests lists and the console show: requests, asks and calls, the reps and
# the advocates asked.
REFERENCES_SCOPES = (Scope.REFERENCES, Scope.PEOPLE)


@staff_required
def requests(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A rep's requests (a manager's: everyone's); the body is cached per reader until a
    request, an ask or a person changes (core.fragments)."""
    sees_all = _sees_all(request)
    template = "references/partials/requests_body.html" + ("#results" if request.htmx else "")

    def body(extra: dict) -> str:
        status = request.GET.get("status", "")
        rows = selectors.requests_visible_to(request.user, see_all=sees_all)
        if status in ReferenceRequest.Status.values:
            rows = rows.filter(status=status)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "page": page,
            "status": status,
            "statuses": ReferenceRequest.Status.choices,
            "querystring": query.urlencode(),
            "sees_all": sees_all,
            **extra,
        }
        return render_to_string(template, context, request)

    content = fragment(
        request,
        "references:requests" + ("#results" if request.htmx else ""),
        body,
        scopes=REFERENCES_SCOPES,
        vary="all" if sees_all else str(request.user.pk),
    )
    if request.htmx:
        return HttpResponse(content)
    return render(request, "references/requests.html", {"body": content})


@staff_required
@require_http_methods(["GET", "POST"])
def request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReferenceRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(rep=request.user, **form.cleaned_data)
        except services.ReferenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Request saved. Here are the best matches."))
            return redirect("references:request_detail", pk=created.pk)
    return render(request, "references/request_new.html", {"form": form})


@staff_required
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ref = _request_or_404(request, pk)
    can_ask = ref.status in (
        ReferenceRequest.Status.OPEN,
        ReferenceRequest.Status.WITH_PROSPECT,
        ReferenceRequest.Status.NEEDS_REP,
    )
    matches = matching.rank(ref, limit=MATCHES_SHOWN) if can_ask else []
    current = next((ask for ask in ref.asks_newest_first if ask.status in Ask.IN_FLIGHT), None)
    meeting = selectors.meeting_for_request(ref)
    weights_used = matching.weights_for(ref) if can_ask else None
    # The program's weights, unless the request is scored with them already (read once).
    weights = (
        weights_used if isinstance(weights_used, MatchingWeights) else MatchingWeights.current()
    )
    context = {
        "ref": ref,
        "matches": matches,
        "can_ask": can_ask,
        "current": current,
        "asks": ref.asks_newest_first,
        "candidates": list(ref.candidates.all()),
        "prospect_url": links.prospect_url(ref)
        if ref.status == ReferenceRequest.Status.WITH_PROSPECT
        else "",
        "close_form": CloseForm(),
        "weights": weights,
        "weights_used": weights_used,
        "meeting": meeting,
        "meeting_zone": zone_or_default(""),
        "time_form": MeetingTimeForm(initial={"time_zone": zone_or_default("")}),
    }
    template = "references/request_detail.html"
    if request.htmx:
        template += "#matches"
    return render(request, template, context)


def _act(request: AuthenticatedHttpRequest, pk: int, action) -> HttpResponse:
    ref = _request_or_404(request, pk)
    try:
        message = action(ref)
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, message)
    return redirect("references:request_detail", pk=ref.pk)


@staff_required
@require_POST
def request_send(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def send(ref: ReferenceRequest) -> str:
        services.request_send_to_prospect(request=ref, by=request.user)
        return _("The link is on its way to %(email)s.") % {"email": ref.prospect_email}

    return _act(request, pk, send)


@staff_required
@require_POST
def request_ask(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def ask(ref: ReferenceRequest) -> str:
        try:
            advocate_id = int(request.POST.get("advocate", ""))
        except ValueError:
            raise services.ReferenceError(_("Pick an advocate from the matches.")) from None
        made = services.request_ask_directly(request=ref, advocate_id=advocate_id)
        return _("%(name)s is asked; you will hear when they answer.") % {
            "name": made.advocate.name
        }

    return _act(request, pk, ask)


@staff_required
@require_POST
def request_call(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def record(ref: ReferenceRequest) -> str:
        completed = request.POST.get("outcome") == "done"
        ask = services.call_record(request=ref, completed=completed)
        if completed:
            return _("Call marked done: %(name)s gets %(points)s points.") % {
                "name": ask.advocate.name,
                "points": services.call_points(),
            }
        return _("Marked as a no-show. It does not count toward the advocate's cap.")

    return _act(request, pk, record)


@staff_required
@require_POST
def request_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def close(ref: ReferenceRequest) -> str:
        form = CloseForm(request.POST)
        if not form.is_valid():
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            raise services.ReferenceError(" ".join(errors))
        data = form.cleaned_data
        services.opportunity_close(
            request=ref,
            won=data["outcome"] == "won",
            won_amount=data.get("won_amount"),
            closed_on=data["closed_on"],
            by=request.user,
        )
        return _("Deal outcome recorded.")

    return _act(request, pk, close)


@manager_required
def console(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The program's reference figures (shared for a minute) and the open requests; the
    body is cached until a request, an ask, a call or a person changes, or the figures
    are recomputed (core.fragments)."""
    stamp = selectors.console_figures_stamp()

    def body(extra: dict) -> str:
        figures = selectors.console_figures()
        context = {
            "figures": figures,
            "stats": figures.stats,
            "near_cap": figures.near_cap,
            "rates": figures.rates,
            "open_requests": selectors.open_requests_newest(CONSOLE_OPEN_REQUESTS),
            "disputed": selectors.disputes().count(),
            **extra,
        }
        return render_to_string("references/partials/console_body.html", context, request)

    content = fragment(
        request,
        "references:console",
        body,
        scopes=REFERENCES_SCOPES,
        vary=stamp,
    )
    return render(request, "references/console.html", {"body": content})


@manager_required
@require_http_methods(["GET", "POST"])
def weights(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = MatchingWeights.current()
    form = WeightsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.weights_update(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Matching weights saved: new matches use them now."))
            return redirect("references:weights")
    return render(
        request,
        "references/weights.html",
        {"form": form, "weights": current, "industries": IndustryWeights.objects.all()},
    )


@advocate_required
def my_requests(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    asks = list(selectors.asks_for_advocate(advocate).order_by("-asked_at", "-id")[:50])
    pause = selectors.pause_current(advocate)
    return render(
        request,
        "references/my_requests.html",
        {
            "advocate": advocate,
            "pending": [a for a in asks if a.status == Ask.Status.PENDING],
            "upcoming": [a for a in asks if a.status == Ask.Status.ACCEPTED],
            "past": [a for a in asks if a.status not in Ask.IN_FLIGHT],
            "load": selectors.advocate_load(advocate),
            "pause": pause,
            "pause_form": PauseForm(initial={"until": pause.until if pause else None}),
            "suggestions": selectors.drive_suggestions(advocate),
            "decline_form": DeclineForm(),
            "feedback_form": FeedbackForm(),
        },
    )


def _own_ask(request: AuthenticatedHttpRequest, pk: int) -> tuple:
    advocate = advocate_for_user(request.user)
    ask = get_object_or_404(
        selectors.asks_for_advocate(advocate).select_related("advocate__user"), pk=pk
    )
    return advocate, ask


@advocate_required
@require_POST
def ask_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    advocate, ask = _own_ask(request, pk)
    accept = request.POST.get("answer") == "accept"
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    error = ""
    try:
        ask = services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=accept, reason=reason)
    except services.ReferenceError as refused:
        error = str(refused)
        ask.refresh_from_db()
    if request.htmx:
        return render(
            request,
            "references/partials/ask_card.html",
            {
                "ask": ask,
                "error": error,
                "decline_form": DeclineForm(),
                "next": request.POST.get("next", ""),
            },
        )
    if error:
        messages.error(request, error)
    elif accept:
        messages.success(
            request,
            _("Thank you! The introduction is on its way to you both: now offer a few times."),
        )
        return redirect("references:ask_call", pk=ask.pk)
    else:
        messages.success(request, _("Declined. No problem: we ask someone else."))
    return redirect(
        "advocates:hub" if request.POST.get("next") == "hub" else "references:my_requests"
    )


@advocate_required
@require_POST
def ask_feedback(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    advocate, ask = _own_ask(request, pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick a rating from 1 to 5."))
        return redirect("references:my_requests")
    try:
        services.advocate_feedback_give(
            ask_id=ask.pk,
            advocate=advocate,
            rating=form.cleaned_data["rating"],
            text=form.cleaned_data["text"],
        )
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect("references:my_requests")


@advocate_required
@require_POST
def pause(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    form = PauseForm(request.POST)
    if not form.is_valid():
        problems = form.errors.get("until") or [_("Pick a valid date.")]
        messages.error(request, " ".join(str(problem) for problem in problems))
        return redirect("references:my_requests")
    until = None if "resume" in request.POST else form.cleaned_data["until"]
    try:
        services.reference_pause_set(advocate=advocate, until=until)
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        if until:
            messages.success(
                request,
                _("No reference requests until %(date)s.")
                % {"date": date_format(until, "MONTH_DAY_FORMAT")},
            )
        else:
            messages.success(request, _("You can be asked for reference calls again."))
    return redirect("references:my_requests")


# --- The prospect (no account: a signed link) --------------------------------------------


def _link_problem(request: HttpRequest, error: services.ReferenceError) -> HttpResponse:
    expired = isinstance(error, services.LinkExpired)
    return render(
        request,
        "references/link_invalid.html",
        {"error": error, "expired": expired},
        status=410 if expired else 404,
    )


@public
@require_http_methods(["GET", "POST"])
def prospect(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    try:
        ref = services.request_from_token(pk, token)
    except services.ReferenceError as error:
        return _link_problem(request, error)
    problem = ""
    if request.method == "POST":
        try:
            if "more_options" in request.POST:
                services.prospect_more_options(request=ref)
            else:
                try:
                    candidate_id = int(request.POST.get("candidate", ""))
                except ValueError:
                    raise services.ReferenceError(
                        _("Pick one of the people on this page.")
                    ) from None
                services.prospect_choose(request=ref, candidate_id=candidate_id)
        except services.ReferenceError as refused:
            problem = str(refused)
        else:
            return redirect("references:prospect", pk=pk, token=token)
    ref.refresh_from_db()
    shortlist = selectors.prospect_shortlist(ref)
    chosen = next((c for c in shortlist if c.chosen_at), None)
    return render(
        request,
        "references/prospect.html",
        {
            "ref": ref,
            "shortlist": shortlist,
            "chosen": chosen,
            "choosing": ref.status == ReferenceRequest.Status.WITH_PROSPECT,
            "call_url": links.prospect_call_url(ref)
            if ref.status == ReferenceRequest.Status.SCHEDULED
            else "",
            "error": problem,
        },
        status=409 if problem else 200,
    )


@public
@require_http_methods(["GET", "POST"])
def prospect_feedback(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    try:
        ref = services.request_from_token(pk, token, purpose=links.FEEDBACK_SALT)
    except services.ReferenceError as error:
        return _link_problem(request, error)
    form = FeedbackForm(request.POST or None)
    done = ref.prospect_feedback_at is not None
    if request.method == "POST" and form.is_valid() and not done:
        try:
            services.prospect_feedback_give(
                request=ref, rating=form.cleaned_data["rating"], text=form.cleaned_data["text"]
            )
        except services.ReferenceError as error:
            form.add_error(None, str(error))
        else:
            return redirect("references:prospect_feedback", pk=pk, token=token)
    return render(
        request,
        "references/prospect_feedback.html",
        {"ref": ref, "form": form, "done": done},
    )
