from django.apps import AppConfig

from campaigns import metrics  # noqa: F401 - adds the campaign figures to /metrics
from core import fragments


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What advocates' cached pages show of these rows (core.fragments).
        from campaigns import models  # noqa: PLC0415 - models are ready only now

        fragments.track(models.Campaign, scopes=[fragments.Scope.CAMPAIGNS])
        for model in (models.CampaignMessage, models.CampaignProspect, models.TriggerFire):
            fragments.track(model, advocate=lambda row: row.advocate_id)
