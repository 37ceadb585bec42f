from django.apps import AppConfig

from campaigns import metrics  # noqa: F401 - adds the campaign figures to /metrics


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"
