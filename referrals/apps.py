from django.apps import AppConfig

from core import fragments


class ReferralsConfig(AppConfig):
    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What advocates' cached pages show of these rows (core.fragments).
        from referrals import models  # noqa: PLC0415 - models are ready only now

        def advocate_of_referral(row: object) -> int | None:
            return (
                models.Referral.objects.filter(pk=row.referral_id)  # type: ignore[attr-defined]
                .values_list("advocate_id", flat=True)
                .first()
            )

        fragments.track(models.Referral, advocate=lambda row: row.advocate_id)
        fragments.track(models.ReferralLink, advocate=lambda row: row.advocate_id)
        for model in (models.ReferralStageChange, models.ReferralReward, models.ReferralMessage):
            fragments.track(model, advocate=advocate_of_referral)
        # The rules and goals the tracker explains.
        for config_model in (models.RewardRule, models.RevenueGoal):
            fragments.track(config_model, everything=True)
        # The reps' pipelines (the console's referral list).
        fragments.track(models.Referral, scopes=[fragments.Scope.REFERRALS])
