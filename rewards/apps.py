from django.apps import AppConfig

from core import fragments


class RewardsConfig(AppConfig):
    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What advocates' cached pages show of these rows (core.fragments).
        from rewards import models  # noqa: PLC0415 - models are ready only now

        points = [fragments.Scope.POINTS]
        fragments.track(models.LedgerEntry, advocate=lambda row: row.advocate_id, scopes=points)
        fragments.track(models.PeriodPoints, advocate=lambda row: row.advocate_id, scopes=points)
        fragments.track(models.Reward, scopes=[fragments.Scope.REWARDS])
        # A redemption takes stock every advocate's catalog shows.
        fragments.track(
            models.Redemption,
            advocate=lambda row: row.advocate_id,
            scopes=[fragments.Scope.REWARDS],
        )
        # The console's fulfilment queue: redemptions, their provider orders, the
        # providers' balances.
        for model in (models.Redemption, models.ProviderOrder, models.ProviderBalance):
            fragments.track(model, scopes=[fragments.Scope.FULFILMENT])
