from django.contrib import admin

from integrations.models import SlackInstallation


@admin.register(SlackInstallation)
class SlackInstallationAdmin(admin.ModelAdmin):
    list_display = ("team_name", "team_id", "status", "channel_name", "installed_at")
    list_filter = ("status",)
    # The token stays out of the admin: installing and removing go through the console.
    exclude = ("bot_token_encrypted",)
    readonly_fields = ("team_id", "app_id", "bot_user_id", "scopes", "installed_at")

    def has_add_permission(self, request: object) -> bool:
        return False
