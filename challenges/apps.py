from django.apps import AppConfig

from core import fragments


class ChallengesConfig(AppConfig):
    name = "challenges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What advocates' cached pages show of these rows (core.fragments).
        from challenges import models  # noqa: PLC0415 - models are ready only now

        fragments.track(models.Challenge, scopes=[fragments.Scope.CHALLENGES])
        for model in (
            models.Submission,
            models.NPSResponse,
            models.AdvocateBadge,
            models.LevelAchievement,
        ):
            fragments.track(model, advocate=lambda row: row.advocate_id)
        # Levels and badges: in the hub, the leaderboards, the challenges.
        for config_model in (models.Level, models.Badge):
            fragments.track(config_model, everything=True)
        # The console's review queue and the submission counts beside the challenges.
        for model in (models.Submission, models.NPSResponse):
            fragments.track(model, scopes=[fragments.Scope.REVIEW])
