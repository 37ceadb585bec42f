"""The console's audit log page: who did what, newest first."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advocates.audit import audit_actions, audit_actors, audit_entries
from advocates.roles import manager_required

PAGE_SIZE = 50


@manager_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    actions = audit_actions()
    actors = audit_actors()
    action = request.GET.get("action", "")
    action = action if action in actions else ""
    actor_id = request.GET.get("actor", "")
    actor_id = (
        int(actor_id) if actor_id.isdigit() and int(actor_id) in {a.pk for a in actors} else None
    )
    entries = audit_entries(action=action, actor_id=actor_id)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
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
    template = "advocates/audit.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)
