from django.apps import AppConfig


class AdvocatesConfig(AppConfig):
    name = "advocates"
    default_auto_field = "django.db.models.BigAutoField"
