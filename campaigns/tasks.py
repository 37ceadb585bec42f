"""Celery discovers tasks here; each lives beside the code it drives."""

from campaigns.sending import campaign_send_batch, campaigns_dispatch_due
from campaigns.triggers import triggers_evaluate
