"""The console's webhook pages (managers): endpoints, their delivery log, resend, test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import events, webhooks
from core.forms import WebhookEndpointForm
from core.models import WebhookEndpoint
from core.roles import manager_required

DELIVERIES_PAGE_SIZE = 50


@contextmanager
def _gone_is_404() -> Iterator[None]:
    """An endpoint or delivery deleted by another manager (or never there) is a 404: the
    services read it under their own lock, so there is no check-then-act gap to 500 in."""
    try:
        yield
    except ObjectDoesNotExist:
        raise Http404 from None


@manager_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None, event_types=events.EVENT_TYPES)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = webhooks.endpoint_create(
                url=data["url"],
                description=data["description"],
                event_types=data["event_types"],
                by=request.user,
            )
        except webhooks.WebhookError as error:
            form.add_error("url", str(error))
        else:
            # Rendered, not redirected: the secret is on this response and no other.
            return render(request, "core/webhook_created.html", {"endpoint": endpoint})
    endpoints = webhooks.endpoints_list()
    return render(request, "core/webhooks.html", {"form": form, "endpoints": endpoints})


@manager_required
@require_http_methods(["GET"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    page = Paginator(webhooks.endpoint_deliveries(endpoint), DELIVERIES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/webhook_detail.html",
        {"endpoint": endpoint, "page": page, "querystring": ""},
    )


@manager_required
@require_POST
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    choice = request.POST.get("active")
    if choice not in ("0", "1"):
        # Anything but the form's own values would otherwise read as "disable".
        messages.error(request, _("Choose to enable (1) or disable (0) the endpoint."))
        return redirect("core:webhook", pk=pk)
    active = choice == "1"
    with _gone_is_404():
        endpoint = webhooks.endpoint_active_set(endpoint_id=pk, active=active, by=request.user)
    if active:
        messages.success(request, _("%(url)s enabled.") % {"url": endpoint.url})
    else:
        messages.success(request, _("%(url)s disabled.") % {"url": endpoint.url})
    return redirect("core:webhook", pk=endpoint.pk)


@manager_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    with _gone_is_404():
        url = webhooks.endpoint_delete(endpoint_id=pk, by=request.user)
    messages.success(request, _("%(url)s deleted, with its delivery log.") % {"url": url})
    return redirect("core:webhooks")


@manager_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        with _gone_is_404():
            webhooks.endpoint_test_send(endpoint_id=pk, by=request.user)
    except webhooks.WebhookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Test event sent: its delivery is at the top of the log."))
    return redirect("core:webhook", pk=pk)


@manager_required
@require_POST
def webhook_resend(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    try:
        with _gone_is_404():
            copy = webhooks.delivery_resend(
                delivery_id=delivery_pk, endpoint_id=pk, by=request.user
            )
    except webhooks.WebhookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Event %(id)s sent again (same id).") % {"id": copy.event_id})
    return redirect("core:webhook", pk=pk)
