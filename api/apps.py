"""The public REST API (/api/v1/): read-only resources for other systems, and its keys."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "API"
