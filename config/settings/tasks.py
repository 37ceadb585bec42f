"""Settings: the cache, Celery (broker, queues, beat schedule), campaign sending.

Read from the environment only; ``config/settings/__init__.py`` imports every name.
"""

from __future__ import annotations

import os

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.env import env_bool, env_int, env_str
from core.queues import bulk_queue_for

# --- Cache and Celery: Redis when REDIS_URL is set, in-process otherwise ---------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache that falls back to process memory while Redis is down
            # (pages keep serving; rate limits count per process): see core/cache.py.
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "vouch")
# Two queues (core/queues.py): the default one for what a person waits for, and
# "<default>-bulk" for campaigns, recomputations and imports. A worker without -Q
# consumes both; `-Q vouch` and `-Q vouch-bulk` split them across workers.
CELERY_TASK_QUEUES = (
    Queue(CELERY_TASK_DEFAULT_QUEUE),
    Queue(bulk_queue_for(CELERY_TASK_DEFAULT_QUEUE)),
)
CELERY_TASK_ROUTES = ("core.queues.route_task",)
# Delivery guarantees (README, "Celery"): a task is acknowledged only after it ran, a
# worker killed mid-task hands the message back, and each process holds one message.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task that cannot be acknowledged after losing Redis is redelivered anyway: stop
# it rather than finish it alongside its redelivered copy (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than any task may run and than any retry countdown (retry_backoff_max), or
# Redis would hand a running or waiting task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # A request publishing to an unreachable Redis gives up quickly (core.outbox).
    "socket_connect_timeout": 3,
}
CELERY_TASK_TIME_LIMIT = 900
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT must exceed the task time limit ({CELERY_TASK_TIME_LIMIT}s)."
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# django-celery-beat's database schedule behind a lease in Redis: a second beat waits
# instead of firing everything twice (core/beat.py).
CELERY_BEAT_SCHEDULER = "core.beat:SingleBeatScheduler"
CELERY_TIMEZONE = "UTC"
# Campaign sending (campaigns.sending): a claimed message whose worker has not sent it
# within this many seconds is taken over by another worker (a worker keeps a claim for
# half of it at most); and how many batch chains one campaign runs at once.
CAMPAIGN_CLAIM_STALE_SECONDS = env_int("CAMPAIGN_CLAIM_STALE_SECONDS", 600)
CAMPAIGN_SEND_PARALLELISM = env_int("CAMPAIGN_SEND_PARALLELISM", 4)
# SMTP connections a sending worker keeps open: the messages of one group commit, and the
# most a worker killed in the instant after that commit can lose (campaigns/sending.py).
CAMPAIGN_SMTP_CONNECTIONS = env_int("CAMPAIGN_SMTP_CONNECTIONS", 10)
# Reference matching (references.matching): seconds a request's scored band of advocates
# is kept in the cache and re-checked live instead of scoring every opted-in advocate
# again; 0 scores everyone on every rank.
MATCHING_BAND_SECONDS = env_int("MATCHING_BAND_SECONDS", 600)
# Periodic work (celery beat; django-celery-beat stores it so managers can see it in the
# admin). Each task is idempotent, so a late or doubled beat changes nothing.
# How often beat syncs every connected CRM (integrations.crm.sync).
CRM_SYNC_MINUTES = env_int("CRM_SYNC_MINUTES", 15)
CELERY_BEAT_SCHEDULE = {
    "campaigns-dispatch-due": {"task": "campaigns.sending.campaigns_dispatch_due", "schedule": 60},
    "campaigns-triggers": {"task": "campaigns.triggers.triggers_evaluate", "schedule": 300},
    # The console home's charts and program cards, computed off the request (campaigns.console).
    "console-charts": {
        "task": "campaigns.console.console_charts_refresh_task",
        "schedule": 300,
        "options": {"expires": 240},
    },
    # Console imports whose task was killed (the time limit) are marked failed.
    "referrals-import-jobs-stalled": {
        "task": "referrals.tasks.import_jobs_fail_stalled",
        "schedule": 300,
        "options": {"expires": 240},
    },
    # Work a Redis outage left in the database outbox (core.outbox).
    "outbox-drain": {
        "task": "advocates.tasks.outbox_drain",
        "schedule": 30,
        "options": {"expires": 25},
    },
    # The delivery log of outbound webhooks, kept WEBHOOK_LOG_DAYS (core.webhooks).
    "webhook-log-purge": {"task": "core.tasks.webhook_log_purge", "schedule": crontab(minute=17)},
    # Webhook deliveries whose retry has come due (core.webhooks).
    "webhook-retries": {
        "task": "core.tasks.webhook_retries_send",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # Provider orders still in flight (a lost webhook, a retry that ran out) and the
    # provider's funding balance (rewards.fulfilment).
    "provider-orders-poll": {
        "task": "rewards.tasks.provider_orders_poll",
        "schedule": 600,
        "options": {"expires": 540},
    },
    "provider-balance-refresh": {
        "task": "rewards.tasks.provider_balance_refresh",
        "schedule": 900,
        "options": {"expires": 840},
    },
    # Reference calls booked in Vouch: reminders 24 h and 1 h before, "did it happen?"
    # after, and counting the calls nobody disputed in time (references.services).
    "references-meetings-due": {
        "task": "references.tasks.meetings_due",
        "schedule": 120,
        "options": {"expires": 110},
    },
    "ams-nightly-recompute": {
        "task": "campaigns.ams.ams_recompute_all",
        "schedule": crontab(hour=3, minute=15),
    },
    # The pending-reviews digest to each Slack workspace's channel (integrations.slack);
    # sent once a day per workspace however many beats fire (a dated conditional update).
    # Every connected CRM read and written incrementally (integrations.crm.sync).
    "crm-sync": {
        "task": "integrations.tasks.crm_sync_all",
        "schedule": 60 * CRM_SYNC_MINUTES,
        "options": {"expires": 300},
    },
    "slack-review-digest": {
        "task": "integrations.tasks.slack_digest_send",
        "schedule": crontab(hour=env_int("SLACK_DIGEST_HOUR", 9), minute=0),
        "options": {"expires": 3000},
    },
}
