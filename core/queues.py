"""Two Celery queues, so a person never waits behind a bulk job.

- **transactional** (``CELERY_TASK_DEFAULT_QUEUE``, ``vouch``): what someone is waiting
  for: invitations, notifications, introductions, password-free links, the outbox drain.
- **bulk** (the same name with ``-bulk``: ``vouch-bulk``): campaign batches and
  dispatch, trigger evaluation, program-wide recomputations, chart refreshes, imports.

A task joins the bulk queue with ``@shared_task(base=BulkTask, ...)``;
every other task stays on the default queue. A worker started without ``-Q`` consumes
both (``CELERY_TASK_QUEUES``), as one small installation needs; a larger one runs
``celery -A config worker -Q vouch`` and ``-Q vouch-bulk`` separately, so invitations
go out within seconds while a 100,000-recipient campaign is being sent.
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Task, current_app

BULK_SUFFIX = "-bulk"


class BulkTask(Task):
    """The base of tasks that belong on the bulk queue."""

    bulk = True


def bulk_queue_for(default_queue: str) -> str:
    return f"{default_queue}{BULK_SUFFIX}"


# Celery's autodiscovery returns at once, having imported nothing, to a thread that calls
# it while another thread is inside it: the first parallel requests of a fresh threaded
# server would find the task unregistered. One thread imports; the others wait for it.
_IMPORT_LOCK = threading.Lock()


def task_named(name: str) -> Task:
    """The registered task called ``name``; every app's ``tasks`` module is imported first."""
    if name not in current_app.tasks:
        with _IMPORT_LOCK:
            if name not in current_app.tasks:
                current_app.loader.import_default_modules()
    return current_app.tasks[name]


def route_task(
    name: str, args: Any, kwargs: Any, options: dict, task: Any = None, **kw: Any
) -> dict[str, str] | None:
    """Celery router (``CELERY_TASK_ROUTES``): bulk tasks to the bulk queue.

    The bulk queue follows the default queue of the moment (the test suite moves it to a
    worker's own queue), and a task sent by name (the outbox) is looked up by that name.
    """
    if task is None:
        try:
            task = task_named(name)
        except KeyError:  # celery's NotRegistered: sent by a name no module defines
            return None
    if getattr(task, "bulk", False):
        return {"queue": bulk_queue_for(current_app.conf.task_default_queue)}
    return None
