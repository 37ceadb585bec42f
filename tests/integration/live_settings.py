"""Settings for the processes integration tests start (gunicorn, celery worker).

Production settings (DEBUG false, Redis, PostgreSQL, real SMTP) with two changes that
only a test needs:

- static files come from the source folders (no collectstatic run before the tests);
- a message held by a worker killed with SIGKILL is handed out again after 10 s rather
  than an hour. config.settings insists that the visibility timeout exceeds the task
  time limit (a running task must never be handed to a second worker), so the time
  limit shrinks with it.
"""

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS, STORAGES

STORAGES = STORAGES | {
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
}
WHITENOISE_USE_FINDERS = True

CELERY_TASK_TIME_LIMIT = 8
CELERY_BROKER_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS | {
    "visibility_timeout": 10,
    # Look for such messages every second (kombu's default sweep is every 100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
