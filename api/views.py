"""The console's API keys page (managers): create a key (shown once), list, revoke."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.forms import APIKeyForm
from api.models import APIKey
from core.roles import manager_required


@manager_required
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest) -> HttpResponse:
    form = APIKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key, token = services.api_key_create(
                name=data["name"],
                scopes=data["scopes"],
                expires_at=form.expires_at(),
                by=request.user,
            )
        except services.APIKeyError as error:
            form.add_error(None, str(error))
        else:
            # Rendered, not redirected: the key is on this response and no other.
            api_root = settings.SITE_URL + reverse("api-v1:api-root")
            return render(
                request, "api/key_created.html", {"key": key, "token": token, "api_root": api_root}
            )
    return render(
        request,
        "api/keys.html",
        {"form": form, "keys": selectors.api_keys_listed(), "rate_limit": settings.API_RATE_LIMIT},
    )


@manager_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(APIKey, pk=pk)
    if services.api_key_revoke(key_id=key.pk, by=request.user):
        messages.success(
            request,
            _("%(name)s (%(prefix)s…) revoked: it stops working now.")
            % {"name": key.name, "prefix": key.prefix},
        )
    else:
        messages.info(request, _("%(name)s was already revoked.") % {"name": key.name})
    return redirect("api:keys")
