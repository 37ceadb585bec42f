"""The console's CSV imports, run by a Celery task with a progress bar.

The upload (``import_job_create``) saves the checked file to the default storage (object
storage in production: workers on other machines read it there) and queues
``referrals.tasks.import_job_run`` after commit. The task (``import_job_run``) runs the
same import as the management commands, writes its progress to the job row as it goes,
then the report and the audit entry, and deletes the file.

Running twice is safe. A task redelivered after its worker died (acks late, reject on
worker lost) imports the file again from the top: referrals are matched by
``external_id`` and advocates by email, so rows already imported come out unchanged (an
``invite`` import re-sends the open invitations of a run that committed but died before
its job was marked done). A job already done or failed is never run again. A job whose
task was killed (``ImportJob.time_limit``) stays "running" until
``import_jobs_fail_stalled`` marks it failed; its page says so as soon as it is older
than the time limit.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from advocates.models import User
from core.audit import audit_record
from core.i18n import speaking_to
from core.outbox import enqueue_after_commit
from referrals.models import ImportJob
from referrals.services import imports

logger = logging.getLogger(__name__)

RUN_TASK = "referrals.tasks.import_job_run"
# The progress bar's refresh: the job row is written at most this often.
PROGRESS_SECONDS = 1.0
# Formatted with ``% {"minutes": stall_minutes()}``.
STALLED_MESSAGE = gettext_lazy(
    "The import stopped: its worker did not finish it within %(minutes)s minutes. "
    "Rows imported before it stopped are kept; importing the same file again is safe "
    "(rows already imported come out unchanged)."
)


def import_job_create(
    *, created_by: User, kind: str, text: str, rows: int, filename: str, invite: bool = False
) -> ImportJob:
    """Queue an import of ``text`` (a file the upload form has checked whole)."""
    if kind not in ImportJob.Kind.values:
        raise ValueError(f"Unknown import kind {kind!r}.")
    # A random name: MEDIA_ROOT may be served publicly, and the file holds contact data.
    name = default_storage.save(
        f"imports/{kind}-{secrets.token_urlsafe(24)}.csv", ContentFile(text.encode("utf-8"))
    )
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                kind=kind,
                invite=invite and kind == ImportJob.Kind.ADVOCATES,
                file=name,
                filename=filename[:255],
                rows_total=rows,
                created_by=created_by,
            )
            enqueue_after_commit(RUN_TASK, job.pk)
    except BaseException:
        default_storage.delete(name)
        raise
    return job


class _ProgressWriter:
    """The import's progress callback: one UPDATE of the counts, at most once a second."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last = time.monotonic()

    def __call__(self, report: imports.ImportReport, rows_read: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        ImportJob.objects.filter(pk=self.job_id, status=ImportJob.Status.RUNNING).update(
            rows_read=rows_read, **_counts(report)
        )


def _counts(report: imports.ImportReport) -> dict[str, int]:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "error_count": len(report.errors),
        "flagged_count": len(report.flagged),
    }


def import_job_run(*, job_id: int) -> str:
    """Run a queued job's import; a job already done or failed is left as it is."""
    now = timezone.now()
    # Only a queued or running job is (re)started: the row count says whether this
    # delivery has anything to do, so a late redelivery never imports a finished job.
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(
        status=ImportJob.Status.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        rows_read=0,
        created=0,
        updated=0,
        unchanged=0,
        error_count=0,
        flagged_count=0,
    )
    if not claimed:
        return f"import job {job_id}: already finished"
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    progress = _ProgressWriter(job.pk)
    # The report (row errors, the failure) is read by the manager who uploaded the file:
    # written in their language.
    with speaking_to(job.created_by):
        try:
            with default_storage.open(job.file.name, "rb") as stored:
                text = stored.read().decode("utf-8")
            if job.kind == ImportJob.Kind.ADVOCATES:
                report = imports.advocates_import(source=text, invite=job.invite, progress=progress)
            else:
                report = imports.referrals_import(source=text, progress=progress)
        except OSError:
            raise  # storage or network: the task retries (core.tasks.RETRY); the job stays
        except Exception as error:
            logger.exception("Import job %s failed", job.pk)
            import_job_fail(
                job_id=job.pk,
                message=gettext(
                    "The import stopped on an unexpected error (%(error)s). Rows imported "
                    "before it are kept; importing the same file again is safe."
                )
                % {"error": type(error).__name__},
            )
            return f"import job {job.pk}: failed"
    _finish(job, report)
    return f"import job {job.pk}: {report.created} created, {len(report.errors)} errors"


def _finish(job: ImportJob, report: imports.ImportReport) -> None:
    cap = ImportJob.REPORT_CAP
    with transaction.atomic():
        done = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.DONE,
            finished_at=timezone.now(),
            rows_read=job.rows_total,
            errors=[{"line": n, "reason": r} for n, r in report.errors[:cap]],
            flagged=[{"line": n, "reason": r} for n, r in report.flagged[:cap]],
            **_counts(report),
        )
        if done:
            audit_record(
                actor=job.created_by,
                action=f"import.{job.kind}",
                target=job,
                detail={
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "errors": len(report.errors),
                },
            )
    _delete_file(job.file.name)


def import_job_fail(*, job_id: int, message: str) -> bool:
    """Mark a queued or running job failed with ``message``; False if it had finished."""
    job = ImportJob.objects.filter(pk=job_id).only("file").first()
    failed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.FAILED, finished_at=timezone.now(), message=message)
    if failed and job is not None:
        _delete_file(job.file.name)
    return bool(failed)


def stall_minutes() -> int:
    return ImportJob.time_limit() // 60


def import_jobs_fail_stalled() -> int:
    """Mark failed the running jobs started longer ago than their task may run."""
    cutoff = timezone.now() - timedelta(seconds=ImportJob.time_limit())
    stalled = ImportJob.objects.filter(
        status=ImportJob.Status.RUNNING, started_at__lt=cutoff
    ).select_related("created_by")
    failed = 0
    for job in list(stalled):
        with speaking_to(job.created_by):
            message = STALLED_MESSAGE % {"minutes": stall_minutes()}
        failed += import_job_fail(job_id=job.pk, message=message)
    return failed


def _delete_file(name: str) -> None:
    if not name:
        return
    try:
        default_storage.delete(name)
    except OSError:  # the job is finished either way; the file is only left behind
        logger.warning("Import file %s could not be deleted", name, exc_info=True)
