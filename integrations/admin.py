from django.contrib import admin

from integrations.models import CrmConnection, RecordError, SlackInstallation, SyncRun


@admin.register(SlackInstallation)
class SlackInstallationAdmin(admin.ModelAdmin):
    list_display = ("team_name", "team_id", "status", "channel_name", "installed_at")
    list_filter = ("status",)
    # The token stays out of the admin: installing and removing go through the console.
    exclude = ("bot_token_encrypted",)
    readonly_fields = ("team_id", "app_id", "bot_user_id", "scopes", "installed_at")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(CrmConnection)
class CrmConnectionAdmin(admin.ModelAdmin):
    list_display = ("provider", "account_name", "status", "connected_at")
    list_filter = ("status", "provider")
    # Tokens stay out of the admin: connecting and disconnecting go through the console.
    exclude = ("access_token_encrypted", "refresh_token_encrypted")
    readonly_fields = ("provider", "flow", "account_id", "instance_url", "token_expires_at")

    def has_add_permission(self, request: object) -> bool:
        return False


class RecordErrorInline(admin.TabularInline):
    model = RecordError
    extra = 0
    can_delete = False
    readonly_fields = ("object_name", "direction", "external_id", "local", "message")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("connection", "trigger", "status", "started_at", "finished_at")
    list_filter = ("status", "trigger")
    readonly_fields = ("connection", "trigger", "status", "counts", "message", "requested_by")
    inlines = [RecordErrorInline]

    def has_add_permission(self, request: object) -> bool:
        return False
