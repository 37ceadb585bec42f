from django.contrib import admin

from rewards.models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only and written by rewards.services alone."""

    list_display = ["created_at", "advocate", "amount", "kind", "reason", "idempotency_key"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "advocate__user__email", "reason"]
    list_select_related = ["advocate__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
