"""The console's CSV imports: the upload page and each import's progress and report.

The upload is checked whole in the request (size, encoding, header, row cap), then
imported by a Celery task (``referrals.services.import_jobs``) while the job's page
shows a progress bar. In the embedded mode (no REDIS_URL) tasks run in-process when the
upload commits, so the import has finished by the time the job's page first shows.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from advocates.http import AuthenticatedHttpRequest
from core.roles import manager_required
from referrals import selectors
from referrals.forms import ImportForm
from referrals.models import ImportJob
from referrals.services import import_jobs, imports


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The console's uploads for the same imports as the management commands."""
    kind = request.POST.get("kind", "")
    forms: dict[str, ImportForm] = {
        name: ImportForm(
            request.POST if kind == name else None,
            request.FILES if kind == name else None,
            prefix=name,
            columns=columns,
        )
        for name, columns in (
            (ImportJob.Kind.ADVOCATES, imports.ADVOCATE_COLUMNS),
            (ImportJob.Kind.REFERRALS, imports.REFERRAL_COLUMNS),
        )
    }
    form = forms.get(kind)
    if form is not None and form.is_valid():
        job = import_jobs.import_job_create(
            created_by=request.user,
            kind=kind,
            text=form.cleaned_data["file"],
            rows=form.rows,
            filename=getattr(request.FILES.get(f"{kind}-file"), "name", "") or "",
            invite=form.cleaned_data["invite"],
        )
        return redirect("referrals:import_job", pk=job.pk)
    unknown_kind = request.method == "POST" and form is None
    if unknown_kind:
        # Only a hand-made request gets here: say so rather than show the page unchanged.
        messages.error(
            request, gettext("Choose which file you are importing: advocates or referrals.")
        )
    return render(
        request,
        "referrals/import.html",
        {
            "advocates_form": forms[ImportJob.Kind.ADVOCATES],
            "referrals_form": forms[ImportJob.Kind.REFERRALS],
            "jobs": selectors.import_jobs_recent(),
            "advocate_columns": ",".join(imports.ADVOCATE_COLUMNS),
            "referral_columns": ",".join(imports.REFERRAL_COLUMNS),
        },
        status=400 if unknown_kind else 200,
    )


@manager_required
@require_GET
def import_job(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One import: a progress bar that refreshes itself until it ends, then the report."""
    try:
        job = selectors.import_job_for_manager(job_id=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.") from None
    context = {
        "job": job,
        "stalled_message": import_jobs.STALLED_MESSAGE % {"minutes": import_jobs.stall_minutes()},
    }
    template = "referrals/import_job.html"
    return render(request, f"{template}#progress" if request.htmx else template, context)
