"""Shared infrastructure: roles, audit, outbox, mail, CSV, cache, images, program settings."""

from django.apps import AppConfig
from django.core.signals import request_finished, request_started

from core import checks  # noqa: F401 - registers the system checks


class CoreConfig(AppConfig):
    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import i18n, mfa, models  # noqa: PLC0415 - signal wiring waits for the app registry

        mfa.connect_signals()
        i18n.connect_signals()
        # The program settings read once per web request (core.models.ProgramSettings.load).
        request_started.connect(models.program_settings_request_started, dispatch_uid="ps-in")
        request_finished.connect(models.program_settings_request_finished, dispatch_uid="ps-out")
