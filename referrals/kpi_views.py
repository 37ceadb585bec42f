"""The console's referral KPIs: the page (a window's figures beside the industry
benchmark) and the same figures as JSON.

Both are cached (core.fragments) under the KPIs' own version (``referrals.kpis``, bumped
by every referral write) and the people's scope (the enrolled advocates they count).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from advocates.http import AuthenticatedHttpRequest
from core import fragments
from core.cache import cache_version
from core.roles import manager_required
from referrals.forms import KpiWindowForm
from referrals.kpis import BENCHMARKS, KPI_VERSION_KEY, referral_kpis_cached
from referrals.models import Method

# The KPIs' enrolled advocates (and the rates over them) are counted with the figures;
# the referral figures have a version of their own (referrals.kpis.KPI_VERSION_KEY).
KPI_SCOPES = (fragments.Scope.PEOPLE,)


@manager_required
def kpis(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The referral KPIs of a window; the body is cached until a referral (the KPIs'
    version) or an advocate changes (core.fragments)."""

    def body(extra: dict) -> str:
        form = KpiWindowForm(request.GET or None)
        if not form.is_bound:
            # Show the default window (the last 365 days) in the date fields too.
            defaults = KpiWindowForm({})
            defaults.is_valid()
            form = KpiWindowForm({k: v.isoformat() for k, v in _window(defaults).items()})
        figures: dict[str, Any] | None = None
        computed_at: datetime | None = None
        if form.is_valid():
            figures, computed_at = referral_kpis_cached(**_window(form))
        methods = []
        if figures:
            for value, label in Method.choices:
                row = figures["by_method"][value]
                methods.append(
                    {
                        "label": label,
                        **row,
                        "bench_conversion": BENCHMARKS["by_method_conversion"][value],
                        "bench_share": BENCHMARKS["by_method_share"][value],
                        "bar": round(row["conversion_rate"] * 100),
                        "bench_bar": round(BENCHMARKS["by_method_conversion"][value] * 100),
                    }
                )
        context = {
            "form": form,
            "k": figures,
            "methods": methods,
            "bench": BENCHMARKS,
            "window": _window(form) if form.is_valid() else None,
            "computed_at": computed_at,
            "json_url": reverse("referrals:kpis_json")
            + (
                "?" + urlencode({k: v.isoformat() for k, v in _window(form).items()})
                if form.is_valid()
                else ""
            ),
            **extra,
        }
        return render_to_string("referrals/partials/kpis_body.html", context, request)

    content = fragments.fragment(
        request, "referrals:kpis", body, scopes=KPI_SCOPES, vary=cache_version(KPI_VERSION_KEY)
    )
    return render(request, "referrals/kpis.html", {"body": content})


def _window(form: KpiWindowForm) -> dict:
    return {"start": form.cleaned_data["start"], "end": form.cleaned_data["end"]}


@manager_required
@require_GET
def kpis_json(request: AuthenticatedHttpRequest) -> JsonResponse:
    if not request.GET.get("start") or not request.GET.get("end"):
        return JsonResponse({"error": "Give start and end as YYYY-MM-DD."}, status=400)
    form = KpiWindowForm(request.GET)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return JsonResponse({"error": "Invalid window.", "fields": errors}, status=400)
    figures, computed_at = fragments.value(
        request,
        "referrals:kpis_json",
        lambda: referral_kpis_cached(**_window(form)),
        scopes=KPI_SCOPES,
        vary=cache_version(KPI_VERSION_KEY),
    )
    response = JsonResponse(figures)
    # The figures are the same as the page's cached copy: say when they were computed
    # without adding a key to the documented JSON.
    response["Last-Modified"] = http_date(computed_at.timestamp())
    return response
