"""The console home, analytics and CSV exports (community managers only)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from advocates.roles import manager_required
from campaigns import analytics, charts, exports
from campaigns.console import CHARTS_REFRESH_SECONDS, console_overview
from campaigns.exports import ExportWindowForm
from campaigns.models import Campaign

PROMOTERS_PAGE_SIZE = 25


@manager_required
@require_GET
def console_home(request: HttpRequest) -> HttpResponse:
    overview = console_overview()
    figures = overview.charts
    context = {
        "h": overview.health,
        "c": figures,
        "p": figures.program if figures else None,
        "charts_every": CHARTS_REFRESH_SECONDS // 60,
    }
    if figures is not None:
        labels = [week.label for week in figures.weeks]
        context |= {
            "activity_points": charts.line_chart(
                labels,
                [("Points earned", "chart-line--brand", [w.points for w in figures.weeks])],
            ),
            "activity_people": charts.line_chart(
                labels,
                [("Advocates earning", "chart-line--ok", [w.advocates for w in figures.weeks])],
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
    return render(request, "campaigns/console.html", context)


@manager_required
@require_GET
def analytics_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    page = Paginator(analytics.promoters_not_acted(now=now), PROMOTERS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "campaigns/analytics.html#promoters", {"page": page})
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
        "campaigns/analytics.html",
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
def exports_page(request: HttpRequest) -> HttpResponse:
    form = ExportWindowForm(request.GET or None)
    window = form.is_valid() or not form.is_bound
    query = urlencode({k: v for k, v in request.GET.items() if k in ("start", "end") and v})
    campaigns = Campaign.objects.order_by("-created_at", "-id")[:50]
    return render(
        request,
        "campaigns/exports.html",
        {
            "form": form,
            "window_ok": window,
            "query": query,
            "exports": exports.EXPORTS.values(),
            "campaigns": campaigns,
        },
    )


def _bad_window(request: HttpRequest, form: ExportWindowForm) -> HttpResponse:
    messages.error(request, "Those dates do not make a range: nothing was exported.")
    return redirect(f"{reverse('campaigns:exports')}?{request.GET.urlencode()}")


@manager_required
@require_GET
def export_csv(request: HttpRequest, kind: str) -> StreamingHttpResponse | HttpResponse:
    export = exports.EXPORTS.get(kind)
    if export is None:
        raise Http404("No such export.")
    form = ExportWindowForm(request.GET)
    if not form.is_valid():
        return _bad_window(request, form)
    return exports.export_response(export, **form.window())


@manager_required
@require_GET
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    return exports.campaign_results_response(campaign)
