from django.apps import AppConfig


class AdvocatesConfig(AppConfig):
    name = "advocates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from advocates import mfa

        mfa.connect_signals()
