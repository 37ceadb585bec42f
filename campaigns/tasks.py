"""Celery discovers tasks here; each lives beside the code it drives."""

from campaigns.ams import ams_recompute_all, ams_recompute_one  # noqa: F401
from campaigns.console import console_charts_refresh_task  # noqa: F401
from campaigns.prospect_events import prospect_event_suggestion_send  # noqa: F401
from campaigns.sending import campaign_send_batch, campaigns_dispatch_due  # noqa: F401
from campaigns.triggers import triggers_evaluate  # noqa: F401
