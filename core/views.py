"""Pages every role shares: health and readiness, the program settings, the brand
stylesheet, the audit log."""

from __future__ import annotations

from datetime import datetime

import redis
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    condition,
    require_GET,
    require_http_methods,
    require_POST,
)
from django.views.i18n import set_language

from core import branding
from core.audit import audit_actions, audit_actors, audit_entries
from core.forms import ProgramSettingsForm
from core.http import HtmxHttpRequest
from core.i18n import save_language
from core.models import ProgramSettings
from core.roles import manager_required, public

AUDIT_PAGE_SIZE = 50


@public
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 whenever this process answers. It checks nothing else, so an outage
    of the database or Redis never makes an orchestrator restart healthy processes."""
    return JsonResponse({"status": "ok"})


@public
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 without the database (nothing works without it); Redis down is
    "degraded" with 200, because pages keep serving without it (docs/reliability.md), so
    a load balancer must not take every host out for it."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            ).ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"error: {type(error).__name__}"
    if checks["database"] != "ok":
        status, code = "error", 503
    elif all(value == "ok" for value in checks.values()):
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    return JsonResponse({"status": status, **checks}, status=code)


@manager_required
@require_http_methods(["GET", "POST"])
def program_settings(request: HttpRequest) -> HttpResponse:
    program = ProgramSettings.load()
    initial = {
        "name": program.name,
        "primary_color": program.primary_color,
        "fatigue_cap_per_week": program.fatigue_cap_per_week,
        "max_deal_amount": program.max_deal_amount,
        "max_points_per_event": program.max_points_per_event,
        "accepted_answer_points": program.accepted_answer_points,
    }
    form = ProgramSettingsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            branding.program_settings_update(
                actor=request.user,
                name=data["name"],
                primary_color=data["primary_color"],
                fatigue_cap_per_week=data["fatigue_cap_per_week"],
                logo=data.get("logo_upload"),
                remove_logo=data.get("remove_logo", False),
                max_deal_amount=data["max_deal_amount"],
                max_points_per_event=data["max_points_per_event"],
                accepted_answer_points=data.get("accepted_answer_points"),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error("logo_upload", error)
        else:
            messages.success(request, _("Program settings saved."))
            return redirect("core:settings")
    colours = branding.palette(program.primary_color)
    return render(
        request,
        "core/settings.html",
        {
            "form": form,
            "program": program,
            "colours": colours,
            "ink_is_white": colours.ink == branding.WHITE,
            "contrast": round(branding.contrast(colours.brand, colours.ink), 1),
            "logo_url": branding.logo_url(program),
        },
    )


def _brand_etag(request: HttpRequest) -> str:
    program = ProgramSettings.load()
    return f'"brand-{program.primary_color[1:]}-{branding.stamp(program.updated_at)}"'


def _brand_modified(request: HttpRequest) -> datetime | None:
    return ProgramSettings.load().updated_at


@public
@require_GET
@condition(etag_func=_brand_etag, last_modified_func=_brand_modified)
def brand_css(request: HttpRequest) -> HttpResponse:
    """``:root`` custom properties for the brand colour; base.html links it after app.css.

    The link carries ``?v=<updated_at>``, so a versioned URL may be cached for a long
    time (a new save changes the URL); an unversioned or stale one is revalidated often.
    """
    program = ProgramSettings.load()
    response = HttpResponse(
        branding.palette(program.primary_color).css(), content_type="text/css; charset=utf-8"
    )
    if request.GET.get("v") == branding.brand_version(program):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=300"
    return response


@manager_required
@require_GET
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    actions = audit_actions()
    actors = audit_actors()
    action = request.GET.get("action", "")
    action = action if action in actions else ""
    actor_param = request.GET.get("actor", "")
    actor_id = (
        int(actor_param)
        if actor_param.isdigit() and int(actor_param) in {a.pk for a in actors}
        else None
    )
    entries = audit_entries(action=action, actor_id=actor_id)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "actions": actions,
        "actors": actors,
        "action": action,
        "actor_id": actor_id,
        "querystring": query.urlencode(),
    }
    template = "core/audit.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@public
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the language Vouch is read in: a cookie for everyone (Django's
    ``set_language``, which also sends the person back where they were) and, when
    signed in, saved on the account so email is written in it too."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        # set_language then changes nothing and only sends the person back.
        messages.error(request, _("Choose one of the languages offered."))
    elif request.user.is_authenticated:
        save_language(request.user, code)
    return set_language(request)
