"""Shared infrastructure: roles, audit, outbox, mail, CSV, cache, images, program settings."""

from django.apps import AppConfig

from core import checks  # noqa: F401 - registers the system checks


class CoreConfig(AppConfig):
    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import i18n, mfa  # noqa: PLC0415 - signal wiring waits for the app registry

        mfa.connect_signals()
        i18n.connect_signals()
