"""Django admin for inspecting campaigns. Read-only: segments are saved through
``services.segments`` (the filter is validated), campaigns move through
``services.campaigns`` (a conditional state machine the sending workers rely on), and
messages and suppressions are written by sending and unsubscribes alone."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from campaigns.models import Campaign, CampaignMessage, Segment, Suppression


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "description", "created_by", "created_at", "updated_at"]
    search_fields = ["name", "description"]
    list_select_related = ["created_by"]


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "status", "segment", "trigger", "scheduled_at", "started_at"]
    list_filter = ["kind", "status", "trigger"]
    search_fields = ["name", "subject"]
    list_select_related = ["segment"]


@admin.register(CampaignMessage)
class CampaignMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "campaign", "email", "status", "skip_reason", "attempts", "sent_at"]
    list_filter = ["status", "skip_reason"]
    search_fields = ["email", "campaign__name"]
    list_select_related = ["campaign"]
    # A campaign has one row per recipient: no count(*) over the table on every page.
    show_full_result_count = False
    raw_id_fields = ["campaign", "advocate"]


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ["email", "reason", "campaign", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    list_select_related = ["campaign"]
