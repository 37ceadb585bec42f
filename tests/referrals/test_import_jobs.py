"""The console's CSV upload: checked in the request, imported by a task with a progress
bar, its report on the job's page (referrals.import_views, referrals.services.import_jobs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from referrals.models import ImportJob, Referral
from referrals.services import import_jobs, imports
from referrals.tasks import import_job_run
from tests.referrals.factories import ImportJobFactory
from tests.referrals.test_imports import ADV_HEADER, REF_HEADER, referral_rows

pytestmark = pytest.mark.django_db


def _post(client, kind: str, content: bytes, **extra: str):
    upload = SimpleUploadedFile("crm.csv", content, content_type="text/csv")
    return client.post(reverse("referrals:import"), {"kind": kind, f"{kind}-file": upload, **extra})


def _stored_files() -> list[str]:
    return default_storage.listdir("imports")[1] if default_storage.exists("imports") else []


def test_upload_queues_a_job_whose_page_shows_the_report(
    manager_client, manager, owned_advocate, django_capture_on_commit_callbacks
):
    email = owned_advocate.user.email
    text = REF_HEADER + (
        f"SF-1,{email},Pat,pat@buyer.example,,lead_form,2026-01-05,qualified,2026-01-06,\n"
        f"SF-2,{email},Me,{email},,lead_form,2026-01-05,,,\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(manager_client, "referrals", text.encode())
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("referrals:import_job", kwargs={"pk": job.pk})
    assert (job.status, job.rows_total, job.rows_read, job.created_by) == ("done", 2, 2, manager)
    assert list(Referral.objects.values_list("external_id", "stage")) == [("SF-1", "qualified")]

    body = manager_client.get(response.url).content.decode()
    assert "1 created · 0 updated · 0 unchanged" in body
    assert "Line 3: You cannot refer yourself." in body
    assert 'hx-trigger="every 1s"' not in body
    # The uploaded file is deleted once read; the audit entry says what the import did.
    assert _stored_files() == []
    entry = AuditEntry.objects.get(action="import.referrals")
    assert entry.actor == manager
    assert entry.detail == {"created": 1, "updated": 0, "unchanged": 0, "errors": 1}


def test_an_advocates_upload_with_invite_runs_as_a_job(
    manager_client, rep, django_capture_on_commit_callbacks
):
    text = ADV_HEADER + "ann@cust.example,Ann,Ames,Cust Inc,CTO,Software,,rep@example.com\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(manager_client, "advocates", text.encode(), **{"advocates-invite": "on"})
    job = ImportJob.objects.get()
    assert (job.kind, job.invite, job.status, job.created) == ("advocates", True, "done", 1)
    assert "Advocates imported" in manager_client.get(response.url).content.decode()


BAD_FILES = {
    "not UTF-8": ("email\nzoë@x.example\n".encode("latin-1"), "The file is not UTF-8 text."),
    "missing columns": (b"external_id,advocate_email\nSF-1,a@b\n", "Line 1: Missing column"),
    "header only": (REF_HEADER.encode(), "The file has no rows."),
    "over the row cap": (
        (REF_HEADER + referral_rows("ada@example.com", 4)).encode(),
        "The file has more than 3 rows: split it.",
    ),
}


@pytest.mark.parametrize("variant", BAD_FILES)
def test_a_bad_file_is_refused_in_the_request_and_queues_nothing(
    manager_client, owned_advocate, settings, variant, django_capture_on_commit_callbacks
):
    settings.CSV_UPLOAD_MAX_ROWS = 3
    content, message = BAD_FILES[variant]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(manager_client, "referrals", content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert callbacks == []
    assert (ImportJob.objects.count(), Referral.objects.count(), _stored_files()) == (0, 0, [])


@pytest.mark.parametrize("kind", ["", "companies"])
def test_an_upload_of_no_known_kind_says_so_and_queues_nothing(manager_client, kind: str):
    response = _post(manager_client, kind, REF_HEADER.encode())
    assert response.status_code == 400
    assert "Choose which file you are importing" in response.content.decode()
    assert (ImportJob.objects.count(), _stored_files()) == (0, [])


def test_the_job_page_polls_while_the_import_runs(manager_client, manager, htmx_headers):
    job = ImportJobFactory(
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        rows_total=3000,
        rows_read=1500,
        created=1200,
        updated=250,
        error_count=7,
        created_by=manager,
    )
    url = reverse("referrals:import_job", kwargs={"pk": job.pk})
    body = manager_client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert "1,500 of 3,000 rows read (50%)" in body
    assert '<progress id="import-bar" class="campaign-bar" max="3000" value="1500">' in body
    # The poll gets the progress section alone.
    fragment = manager_client.get(url, **htmx_headers).content.decode()
    assert fragment.lstrip().startswith('<section class="card campaign-progress" id="progress"')
    assert "<html" not in fragment
    assert 'hx-trigger="every 1s"' in fragment


def test_the_job_page_stops_polling_when_the_import_is_done(manager_client, htmx_headers):
    job = ImportJobFactory(
        created=2,
        unchanged=1,
        error_count=1,
        errors=[{"line": 4, "reason": "No advocate with the email x@y.example."}],
        finished_at=timezone.now(),
    )
    url = reverse("referrals:import_job", kwargs={"pk": job.pk})
    for response in (manager_client.get(url), manager_client.get(url, **htmx_headers)):
        body = response.content.decode()
        assert "hx-trigger" not in body
        assert "2 created · 0 updated · 1 unchanged" in body
        assert "Line 4: No advocate with the email x@y.example." in body


def test_a_job_of_another_manager_is_visible_and_an_unknown_one_is_404(
    manager_client, rep_client, advocate_client
):
    job = ImportJobFactory(created_by=None)
    url = reverse("referrals:import_job", kwargs={"pk": job.pk})
    assert manager_client.get(url).status_code == 200
    assert rep_client.get(url).status_code == 403
    assert advocate_client.get(url).status_code == 403
    missing = reverse("referrals:import_job", kwargs={"pk": job.pk + 1})
    assert manager_client.get(missing).status_code == 404


def test_progress_is_written_to_the_job_at_most_once_a_second(monkeypatch):
    job = ImportJobFactory(status=ImportJob.Status.RUNNING, rows_read=0, created=0)
    clock = iter([100.0, 100.4, 101.2])  # the writer's start, then two progress calls
    monkeypatch.setattr(import_jobs.time, "monotonic", lambda: next(clock))
    writer = import_jobs._ProgressWriter(job.pk)
    writer(imports.ImportReport(created=400), 500)
    job.refresh_from_db()
    assert (job.rows_read, job.created) == (0, 0)  # 0.4 s after the start: skipped
    writer(imports.ImportReport(created=900), 1000)
    job.refresh_from_db()
    assert (job.rows_read, job.created) == (1000, 900)


def _queued_job(manager, text: str) -> ImportJob:
    return import_jobs.import_job_create(
        created_by=manager, kind="referrals", text=text, rows=text.count("\n") - 1, filename="x"
    )


def test_a_redelivered_task_does_not_import_a_finished_job_again(manager, owned_advocate):
    job = _queued_job(manager, REF_HEADER + referral_rows(owned_advocate.user.email, 3))
    assert "3 created" in import_job_run.apply(args=[job.pk]).result
    again = import_job_run.apply(args=[job.pk]).result
    assert again == f"import job {job.pk}: already finished"
    assert Referral.objects.count() == 3
    assert AuditEntry.objects.filter(action="import.referrals").count() == 1


def test_a_job_left_running_by_a_dead_worker_is_imported_again_safely(manager, owned_advocate):
    text = REF_HEADER + referral_rows(owned_advocate.user.email, 3)
    job = _queued_job(manager, text)
    imports.referrals_import(source=REF_HEADER + referral_rows(owned_advocate.user.email, 2))
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    import_job_run.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.created, job.unchanged, job.attempts) == ("done", 1, 2, 1)
    assert Referral.objects.count() == 3


def test_a_crashing_import_marks_the_job_failed(manager_client, manager, monkeypatch):
    def crash(**kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(imports, "referrals_import", crash)
    job = _queued_job(manager, REF_HEADER + referral_rows("ada@example.com", 1))
    assert import_job_run.apply(args=[job.pk]).result == f"import job {job.pk}: failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert _stored_files() == []
    body = manager_client.get(reverse("referrals:import_job", kwargs={"pk": job.pk})).content
    assert "The import stopped on an unexpected error (ValueError)." in body.decode()
    assert b"hx-trigger" not in body


def test_a_job_whose_task_was_killed_is_shown_and_marked_failed(manager_client, settings):
    settings.CELERY_TASK_TIME_LIMIT = 900
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    long_ago = timezone.now() - timedelta(seconds=3000 + 60)  # its time limit: 3,000 s
    stalled = ImportJobFactory(status="running", started_at=long_ago, rows_read=10)
    recent = ImportJobFactory(status="running", started_at=timezone.now(), rows_read=10)
    body = manager_client.get(reverse("referrals:import_job", kwargs={"pk": stalled.pk})).content
    assert "did not finish it within 50 minutes" in body.decode()
    assert b"hx-trigger" not in body
    assert import_jobs.import_jobs_fail_stalled() == 1
    stalled.refresh_from_db()
    recent.refresh_from_db()
    assert (stalled.status, recent.status) == ("failed", "running")


def test_the_upload_page_lists_the_last_ten_imports_in_constant_queries(manager_client, manager):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(reverse("referrals:import")).status_code == 200
        return len(captured)

    ImportJobFactory(created_by=manager, filename="first.csv")
    one = queries()
    ImportJobFactory.create_batch(11, created_by=manager)
    many = queries()
    assert many == one
    body = manager_client.get(reverse("referrals:import")).content.decode()
    assert body.count("Referrals: crm-export-") == 10
    assert "first.csv" not in body  # the oldest of twelve


def test_a_file_that_cannot_be_read_is_retried_then_the_job_fails(manager, monkeypatch):
    job = _queued_job(manager, REF_HEADER + referral_rows("ada@example.com", 1))

    def unreachable(storage: Storage, name: str, mode: str = "rb") -> None:
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(FileSystemStorage, "open", unreachable)
    with pytest.raises(Retry):  # the first try: Celery retries it, the job waits
        import_job_run.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.message) == ("running", "")
    with pytest.raises(ConnectionError):  # the last try: the page says why it stopped
        import_job_run.apply(args=[job.pk], retries=import_job_run.max_retries)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith("The import stopped on a storage or network error (storage")
