"""Console pages for segments (saved filters over advocates)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from advocates.http import AuthenticatedHttpRequest
from campaigns import selectors
from campaigns.forms import SegmentFilterForm, SegmentForm
from campaigns.models import Segment
from campaigns.segments import (
    LIST_COUNT_SECONDS,
    SegmentFilterError,
    SegmentFilters,
    segment_advocates,
    segment_describe,
    segments_count_recent,
)
from campaigns.services.segments import SegmentInUse, segment_delete, segment_save
from core.csv import stream_csv
from core.roles import manager_required

LIST_PAGE_SIZE = 25
MEMBERS_PAGE_SIZE = 25


@require_GET
@manager_required
def segment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(Segment.objects.order_by("name", "id"), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Counted in one statement, and cached a few minutes (segments_count_recent says why).
    counts = segments_count_recent(page.object_list)
    rows = [{"segment": segment, "count": counts.get(segment.pk)} for segment in page]
    return render(
        request,
        "campaigns/segments.html",
        {"page": page, "rows": rows, "count_minutes": LIST_COUNT_SECONDS // 60},
    )


def _editor(request: AuthenticatedHttpRequest, segment: Segment | None) -> HttpResponse:
    """Create and edit: GET shows the form; GET with ``count`` (the "Count" button, or
    htmx on every change) counts the members of the filter as typed; POST saves."""
    counting = request.method == "GET" and ("count" in request.GET or bool(request.htmx))
    count = None
    if request.method == "POST":
        form = SegmentForm(request.POST)
    elif counting:
        form = SegmentForm(request.GET)
        form.is_valid()
        # The name may still be empty: only the filter's own errors stop the count.
        if form.spec is not None and "__all__" not in form.errors:
            count = segment_advocates(form.spec).count()
        if request.htmx:
            return render(
                request, "campaigns/segment_form.html#count", {"count": count, "form": form}
            )
    elif segment is not None:
        try:
            spec = SegmentFilters.from_dict(segment.filters)
        except SegmentFilterError:
            spec = SegmentFilters()
            messages.warning(
                request, _("This segment's stored filter was unreadable: set it again.")
            )
        else:
            count = segment_advocates(spec).count()
        initial = SegmentFilterForm.initial_from(spec)
        initial.update(name=segment.name, description=segment.description)
        form = SegmentForm(initial=initial)
    else:
        form = SegmentForm()

    # A valid form has its filter parsed (``spec``).
    if request.method == "POST" and form.is_valid() and form.spec is not None:
        try:
            saved = segment_save(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                filters=form.spec,
                by=request.user,
                segment_id=segment.pk if segment else None,
            )
        except SegmentFilterError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
            return redirect("campaigns:segment_detail", pk=saved.pk)
    return render(
        request,
        "campaigns/segment_form.html",
        {"form": form, "segment": segment, "count": count},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@manager_required
def segment_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _editor(request, None)


@require_http_methods(["GET", "POST"])
@manager_required
def segment_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(Segment, pk=pk))


@require_GET
@manager_required
def segment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    try:
        describe = segment_describe(segment.filters)
        page = Paginator(selectors.segment_members(segment), MEMBERS_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    except SegmentFilterError as error:
        messages.error(
            request,
            _("This segment's filter cannot be read (%(error)s). Edit it.") % {"error": error},
        )
        return redirect("campaigns:segment_edit", pk=segment.pk)
    context = {"segment": segment, "describe": describe, "page": page}
    if request.htmx:
        return render(request, "campaigns/segment_detail.html#members", context)
    return render(request, "campaigns/segment_detail.html", context)


@require_http_methods(["GET", "POST"])
@manager_required
def segment_delete_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    campaigns = list(segment.campaigns.order_by("-created_at")[:5])
    if request.method == "POST":
        try:
            segment_delete(segment_id=segment.pk)
        except SegmentInUse as error:
            messages.error(request, str(error))
            return redirect("campaigns:segment_detail", pk=segment.pk)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("campaigns:segment_list")
    return render(
        request,
        "campaigns/segment_delete.html",
        {
            "segment": segment,
            "campaigns": campaigns,
            "campaign_names": ", ".join(f"“{campaign.name}”" for campaign in campaigns),
        },
    )


@require_GET
@manager_required
def segment_export(
    request: AuthenticatedHttpRequest, pk: int
) -> StreamingHttpResponse | HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    try:
        SegmentFilters.from_dict(segment.filters)
    except SegmentFilterError as error:
        messages.error(
            request,
            _("This segment's filter cannot be read (%(error)s). Edit it.") % {"error": error},
        )
        return redirect("campaigns:segment_edit", pk=segment.pk)
    stamp = timezone.localdate().isoformat()
    return stream_csv(
        selectors.SEGMENT_EXPORT_HEADER,
        selectors.segment_export_rows(segment),
        f"segment-{segment.pk}-{stamp}.csv",
    )
