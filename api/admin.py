from __future__ import annotations

from typing import Any

from django.contrib import admin

from api.models import APIKey


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are created and revoked in the console, where it is audited."""

    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
