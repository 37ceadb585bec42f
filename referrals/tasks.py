"""Celery tasks for referrals: thin, take ids, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.utils.translation import gettext

from core.i18n import speaking_to
from core.queues import BulkTask
from core.tasks import RETRY
from referrals import emails
from referrals.models import ImportJob
from referrals.services import import_jobs

# celery's stubs refuse a dict[str, object] as keyword arguments.
RETRY_OPTIONS: dict[str, Any] = RETRY


@shared_task(**RETRY_OPTIONS)
def referral_notify_rep(referral_id: int) -> str:
    """Tell the owner rep (or, for the unassigned queue, the managers) about a referral."""
    return emails.referral_notify_rep(referral_id=referral_id)


@shared_task(**RETRY_OPTIONS)
def referral_message_send(message_id: int) -> str:
    """Send the email an advocate wrote to a colleague (once: sent_at is checked)."""
    return emails.referral_message_deliver(message_id=message_id)


@shared_task(
    bind=True,
    name="referrals.tasks.import_job_run",
    base=BulkTask,  # the bulk queue (core.queues): a big file never delays an invitation
    time_limit=ImportJob.time_limit(),
    **RETRY_OPTIONS,
)
def import_job_run(self: Task, job_id: int) -> str:
    """Run a console CSV import (safe to repeat: see referrals.services.import_jobs)."""
    try:
        return import_jobs.import_job_run(job_id=job_id)
    except OSError as error:
        if self.request.retries >= (self.max_retries or 0):  # the last try: say so on the page
            # Read by the manager who uploaded the file: in their language.
            job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
            with speaking_to(job.created_by if job is not None else None):
                message = gettext(
                    "The import stopped on a storage or network error (%(error)s). "
                    "Importing the same file again is safe."
                ) % {"error": error}
            import_jobs.import_job_fail(job_id=job_id, message=message)
        raise


@shared_task(name="referrals.tasks.import_jobs_fail_stalled")
def import_jobs_fail_stalled() -> str:
    """Beat: mark failed the import jobs whose task was killed (its time limit)."""
    return f"{import_jobs.import_jobs_fail_stalled()} stalled import jobs failed"
