from django.apps import AppConfig

from core import fragments


class ReferencesConfig(AppConfig):
    name = "references"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What advocates' cached pages show of these rows (core.fragments).
        from references import models  # noqa: PLC0415 - models are ready only now

        def advocate_of_ask(ask_id: int) -> int | None:
            return (
                models.Ask.objects.filter(pk=ask_id).values_list("advocate_id", flat=True).first()
            )

        def advocate_of_slot(row: models.MeetingSlot) -> int | None:
            return (
                models.Ask.objects.filter(meetings__pk=row.meeting_id)
                .values_list("advocate_id", flat=True)
                .first()
            )

        for model in (models.Ask, models.ReferencePause, models.Candidate, models.DrivePass):
            fragments.track(model, advocate=lambda row: row.advocate_id)
        fragments.track(models.Meeting, advocate=lambda row: advocate_of_ask(row.ask_id))
        fragments.track(models.MeetingSlot, advocate=advocate_of_slot)
        # Reference drives offer open requests to every advocate's hub.
        fragments.track(models.ReferenceDrive, scopes=[fragments.Scope.CAMPAIGNS])
        fragments.track(models.ReferenceRequest, scopes=[fragments.Scope.CAMPAIGNS])
        fragments.track_m2m(
            models.ReferenceDrive.requests.through, scopes=[fragments.Scope.CAMPAIGNS]
        )
        # The console's and the reps' lists: requests, their asks, the disputed calls.
        for listed in (models.ReferenceRequest, models.Ask, models.Meeting):
            fragments.track(listed, scopes=[fragments.Scope.REFERENCES])
