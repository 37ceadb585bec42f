from __future__ import annotations

from typing import Any

from django.contrib import admin

from core.models import AuditEntry, WebhookDelivery, WebhookEndpoint


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is evidence, so not even an admin edits or deletes it."""

    list_display = ("created_at", "actor", "action", "target_repr")
    list_filter = ("action",)
    search_fields = ("action", "target_repr", "actor__email")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ServiceMadeAdmin(admin.ModelAdmin):
    """Made and changed by core.webhooks only (the console's pages): admin only reads."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceMadeAdmin):
    list_display = ("url", "active", "event_types", "created_at")
    list_filter = ("active",)
    exclude = ("secret",)  # shown once, to the manager who added it


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ServiceMadeAdmin):
    list_display = ("created_at", "event_type", "event_id", "endpoint", "status", "attempts")
    list_filter = ("status", "event_type")
    search_fields = ("event_id",)
    list_select_related = ("endpoint",)
