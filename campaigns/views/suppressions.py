"""The console's suppression list: addresses no campaign email goes to.

Managers see why each address is there (unsubscribed, bounced, marked as spam, added by
hand) and what the provider said, search it, add an address, remove one (campaign email
reaches it again) and export the list as CSV.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from campaigns.forms import SuppressionAddForm
from campaigns.models import Suppression
from campaigns.services.suppressions import (
    SuppressionError,
    suppression_add,
    suppression_remove,
)
from core.csv import stream_csv
from core.roles import manager_required

PAGE_SIZE = 50
EXPORT_HEADER = ["email", "reason", "detail", "campaign", "since"]


def _listed(query: str) -> QuerySet[Suppression]:
    rows = Suppression.objects.select_related("campaign").order_by("-created_at", "-id")
    return rows.filter(email__icontains=query.strip().lower()) if query.strip() else rows


@manager_required
@require_http_methods(["GET", "POST"])
def suppression_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SuppressionAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row, created = suppression_add(
                email=form.cleaned_data["email"],
                reason=Suppression.Reason.MANUAL,
                detail=form.cleaned_data["detail"],
                actor=request.user,
            )
        except SuppressionError as error:
            form.add_error("email", str(error))
        else:
            if created:
                messages.success(
                    request, _("%(email)s gets no more campaign email.") % {"email": row.email}
                )
            else:
                messages.info(
                    request,
                    _("%(email)s was already suppressed (%(reason)s).")
                    % {"email": row.email, "reason": row.get_reason_display()},
                )
            return redirect("campaigns:suppression_list")
    query = request.GET.get("q", "")
    page = Paginator(_listed(query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/suppressions.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "querystring": urlencode({"q": query}) if query else "",
            "total": Suppression.objects.count(),
        },
    )


@manager_required
@require_POST
def suppression_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    row = suppression_remove(suppression_id=pk, actor=request.user)
    if row is None:
        messages.info(request, _("That address was no longer on the list."))
    else:
        messages.success(
            request, _("%(email)s may receive campaign email again.") % {"email": row.email}
        )
    return redirect("campaigns:suppression_list")


@manager_required
@require_GET
def suppression_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    rows = (
        [
            row.email,
            row.reason,
            row.detail,
            row.campaign.name if row.campaign else "",
            row.created_at,
        ]
        for row in _listed(request.GET.get("q", "")).iterator(chunk_size=2000)
    )
    stamp = timezone.localdate().isoformat()
    return stream_csv(EXPORT_HEADER, rows, f"suppressions-{stamp}.csv")
