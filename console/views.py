"""The console: home, analytics, AMS weights, exports, prospect events, the referral
revenue forecast and the program ROI (managers only); and the sales signals page
(job changes at the companies of a rep's open deals), which reps see too."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import Least
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from advocates.http import AuthenticatedHttpRequest
from advocates.models import Advocate
from advocates.selectors import industries as advocate_industries
from campaigns.forms import CsvUploadForm
from campaigns.models import Campaign
from console import ams, charts, exports, job_changes
from console.exports import ExportWindowForm
from console.forms import AmsIndustryWeightsForm, AmsWeightsForm, RevenueGoalForm
from console.models import AmsIndustryWeights, ProspectEvent, ProspectEventSuggestion
from console.prospect_events import COLUMNS, prospect_events_import
from console.selectors import analytics, roi
from console.selectors.home import (
    CHARTS_REFRESH_SECONDS,
    Charts,
    console_charts,
    console_health,
)
from core.fragments import Scope, fragment
from core.models import ProgramSettings
from core.roles import Role, has_role, manager_required, staff_required
from referrals.forecast import Quarter, goals_recent, referral_forecast
from referrals.services import ReferralError
from referrals.services.goals import revenue_goal_set

PROMOTERS_PAGE_SIZE = 25
PROSPECT_EVENTS_PAGE_SIZE = 50
SIGNALS_PAGE_SIZE = 25


# What the console home shows live: the queues (reviews, redemptions, reference
# requests). The charts are keyed by their own version and time (console.selectors.home).
HOME_SCOPES = (Scope.REVIEW, Scope.FULFILMENT, Scope.REFERENCES)


@manager_required
@require_GET
def console_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The program's health; the body is cached until a queue changes or the charts are
    computed again (core.fragments)."""
    figures = console_charts()  # from the cache; may ask for a refresh

    def body(extra: dict) -> str:
        context: dict[str, Any] = {
            "h": console_health(),
            "c": figures,
            "p": figures.program if figures else None,
            "charts_every": CHARTS_REFRESH_SECONDS // 60,
            **extra,
        }
        if figures is not None:
            context |= _home_charts(figures)
        return render_to_string("console/partials/home_body.html", context, request)

    content = fragment(
        request,
        "console:home",
        body,
        scopes=HOME_SCOPES,
        vary=f"{figures.version}:{figures.computed_at.isoformat()}" if figures else "",
    )
    return render(request, "console/home.html", {"body": content})


def _home_charts(figures: Charts) -> dict[str, Any]:
    labels = [week.label for week in figures.weeks]
    return {
        "activity_points": charts.line_chart(
            labels,
            [(_("Points earned"), "chart-line--brand", [w.points for w in figures.weeks])],
        ),
        "activity_people": charts.line_chart(
            labels,
            [(_("Advocates earning"), "chart-line--ok", [w.advocates for w in figures.weeks])],
        ),
        "challenge_funnel": charts.funnel(figures.challenge_funnel),
        "referral_funnel": charts.funnel(figures.referral_funnel),
        "methods_chart": charts.bar_chart(
            [(m.label, m.conversion or 0) for m in figures.methods],
            value_format="{}%",
            maximum=100,
        ),
        "levels_chart": charts.bar_chart([(lc.name, lc.advocates) for lc in figures.levels]),
    }


@manager_required
@require_GET
def analytics_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    page = Paginator(analytics.promoters_not_acted(now=now), PROMOTERS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "console/analytics.html#promoters", {"page": page})
    say_do = analytics.say_vs_do()
    grid = charts.bubble_grid(
        say_do.cells,
        column_labels=analytics.NPS_COLUMNS,
        row_labels=analytics.AMS_BANDS,
        column_css=[f"bubble--{analytics.nps_group(s)}" for s in range(11)],
        width=440,
    )
    concentration = analytics.concentration_last_year(now=now)
    return render(
        request,
        "console/analytics.html",
        {
            "page": page,
            "say_do": say_do,
            "grid": grid,
            "c": concentration,
            "refs": analytics.references_given(since=now - analytics.YEAR),
            "since": now - analytics.YEAR,
        },
    )


@manager_required
@require_GET
def exports_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ExportWindowForm(request.GET or None)
    window = form.is_valid() or not form.is_bound
    query = urlencode({k: v for k, v in request.GET.items() if k in ("start", "end") and v})
    campaigns = Campaign.objects.order_by("-created_at", "-id")[:50]
    return render(
        request,
        "console/exports.html",
        {
            "form": form,
            "window_ok": window,
            "query": query,
            "exports": exports.EXPORTS.values(),
            "campaigns": campaigns,
        },
    )


def _bad_window(request: AuthenticatedHttpRequest, form: ExportWindowForm) -> HttpResponse:
    messages.error(request, _("Those dates do not make a range: nothing was exported."))
    return redirect(f"{reverse('console:exports')}?{request.GET.urlencode()}")


@manager_required
@require_GET
def export_csv(
    request: AuthenticatedHttpRequest, kind: str
) -> StreamingHttpResponse | HttpResponse:
    export = exports.EXPORTS.get(kind)
    if export is None:
        raise Http404("No such export.")
    form = ExportWindowForm(request.GET)
    if not form.is_valid():
        return _bad_window(request, form)
    return exports.export_response(export, **form.window())


@manager_required
@require_GET
def campaign_export(request: AuthenticatedHttpRequest, pk: int) -> StreamingHttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    return exports.campaign_results_response(campaign)


@require_http_methods(["GET", "POST"])
@manager_required
def ams_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = ams.weights_current()
    if request.method == "POST" and "reset" in request.POST:
        ams.ams_weights_save(weights=ams.DEFAULT_WEIGHTS, by=request.user)
        messages.success(
            request, _("AMS weights reset to the defaults; scores are being recomputed.")
        )
        return redirect("console:ams")
    form = AmsWeightsForm(request.POST if request.method == "POST" else None, initial=current)
    if request.method == "POST" and form.is_valid():
        try:
            ams.ams_weights_save(weights=form.cleaned_data, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("AMS weights saved; scores are being recomputed."))
            return redirect("console:ams")
    example_counts = {
        "reference_calls": 2,
        "referrals_made": 1,
        "referrals_won": 1,
        "reviews": 1,
        "social_shares": 4,
    }
    example = ams.ams_compute(example_counts, current)
    program = ProgramSettings.load()
    return render(
        request,
        "console/ams.html",
        {
            "form": form,
            "weights": current,
            "public_share": 100 - current["private_share"],
            "example": example,
            "example_rows": ams.explain(example, example_counts, current),
            "updated_at": program.updated_at if program.ams_weights else None,
            "distribution": _distribution(),
            "industry_sets": AmsIndustryWeights.objects.all(),
        },
        status=400 if request.method == "POST" else 200,
    )


def _distribution() -> list[dict[str, Any]]:
    """Active advocates per band of 10 AMS points (one grouped query)."""
    counts = dict(
        Advocate.objects.filter(status=Advocate.Status.ACTIVE)
        .annotate(band=Least("ams", 99) / 10)
        .values_list("band")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("band", "n")
    )
    top = max(counts.values(), default=0)
    return [
        {
            "label": f"{band * 10}–{band * 10 + 9 if band < 9 else 100}",
            "count": counts.get(band, 0),
            "percent": round(100 * counts.get(band, 0) / top) if top else 0,
        }
        for band in range(10)
    ]


@manager_required
@require_http_methods(["GET", "POST"])
def prospect_events(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = prospect_events_import(file=form.cleaned_data["file"], imported_by=request.user)
    page = Paginator(
        ProspectEvent.objects.annotate(told=Count("suggestions")).order_by("-occurred_on", "-id"),
        PROSPECT_EVENTS_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    suggestions = ProspectEventSuggestion.objects.select_related(
        "event", "rep", "request", "referral"
    )[:20]
    return render(
        request,
        "console/prospect_events.html",
        {
            "form": form,
            "report": report,
            "page": page,
            "suggestions": suggestions,
            "columns": ",".join(COLUMNS),
            "kinds": ProspectEvent.Kind.choices,
        },
    )


@staff_required
@require_GET
def signals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Contacts who changed company, told to the rep of an open deal at either company:
    a rep sees their own, a manager everyone's."""
    see_all = has_role(request.user, Role.MANAGER)
    page = Paginator(
        job_changes.notices_for(request.user, see_all=see_all), SIGNALS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "console/signals.html", {"page": page, "sees_all": see_all})


@manager_required
@require_http_methods(["GET", "POST"])
def referral_forecast_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    current = Quarter.of(now)
    quarters = [current.previous().previous().previous().previous()]
    while len(quarters) < 9:  # last year's quarters, this one, next year's
        quarters.append(quarters[-1].next())
    form = RevenueGoalForm(
        request.POST or None, quarters=quarters, initial={"quarter": str(current)}
    )
    quarter = (
        Quarter.parse(form.cleaned_data["quarter"]) if form.is_bound and form.is_valid() else None
    )
    if quarter is not None:  # one of the form's choices
        try:
            revenue_goal_set(
                year=quarter.year,
                quarter=quarter.number,
                amount=form.cleaned_data["amount"],
                by=request.user,
            )
        except ReferralError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("The goal for %(quarter)s is saved.") % {"quarter": quarter.label}
            )
            return redirect("console:referral_forecast")
    shown = Quarter.parse(request.GET.get("quarter", "")) or current
    return render(
        request,
        "console/referral_forecast.html",
        {
            "f": referral_forecast(quarter=shown, now=now),
            "goals": goals_recent(),
            "form": form,
            "previous": shown.previous(),
            "next": shown.next() if shown != current else None,
        },
    )


@manager_required
@require_GET
def program_roi_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "console/program_roi.html", {"quarters": roi.program_roi()})


@require_http_methods(["GET", "POST"])
@manager_required
def ams_industry(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """Give an industry its own AMS weights, change them, or drop them."""
    row = get_object_or_404(AmsIndustryWeights, pk=pk) if pk is not None else None
    if request.method == "POST" and "delete" in request.POST and row is not None:
        ams.ams_industry_weights_delete(pk=row.pk)
        messages.success(
            request,
            _("%(industry)s now uses the program's AMS weights; scores are being recomputed.")
            % {"industry": row.for_industry},
        )
        return redirect("console:ams")
    program = ams.weights_current()
    current = ams.weights_for(row.for_industry) if row else program
    initial = {**current, "for_industry": row.for_industry if row else ""}
    form = AmsIndustryWeightsForm(
        request.POST if request.method == "POST" else None, initial=initial, program=program
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        industry = data.pop("for_industry")
        try:
            saved = ams.ams_industry_weights_save(
                industry=industry, weights=data, by=request.user, pk=row.pk if row else None
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("AMS weights for %(industry)s saved; scores are being recomputed.")
                % {"industry": saved.for_industry},
            )
            return redirect("console:ams")
    return render(
        request,
        "console/ams_industry.html",
        {
            "form": form,
            "row": row,
            "known_industries": advocate_industries(),
        },
        status=400 if request.method == "POST" else 200,
    )
