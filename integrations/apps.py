from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Connections to the tools reps live in (Slack), on the console floor."""

    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.slack import notify  # noqa: PLC0415 - models load after the registry

        # Slack hears the domain events every path emits (core.events.listen), so a
        # referral from a form, the CRM API or an import notifies alike.
        notify.listen()
