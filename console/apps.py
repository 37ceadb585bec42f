"""The community manager's console: home, analytics, charts, AMS, exports, prospect events."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    default_auto_field = "django.db.models.BigAutoField"
