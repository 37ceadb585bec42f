from django.contrib import admin

from rewards.models import LedgerEntry, ProviderBalance, ProviderOrder, Redemption, Reward


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


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    """For inspection; managers edit rewards in the console (rewards.services.catalog validates)."""

    list_display = ["name", "kind", "points_cost", "stock", "is_active", "starts_at", "ends_at"]
    list_filter = ["kind", "is_active", "needs_shipping"]
    search_fields = ["name"]


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    """Read-only: status changes go through the fulfilment queue (refunds, emails)."""

    list_display = ["id", "created_at", "reward", "advocate", "points", "status"]
    list_filter = ["status", "reward__kind"]
    search_fields = ["advocate__user__email", "reward__name", "idempotency_key"]
    list_select_related = ["reward", "advocate__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProviderOrder)
class ProviderOrderAdmin(admin.ModelAdmin):
    """Read-only: moved by rewards.services.fulfilment (the provider and the queue)."""

    list_display = ["external_id", "provider", "state", "order_id", "delivery_status", "updated_at"]
    list_filter = ["provider", "state"]
    search_fields = ["external_id", "order_id", "reward_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProviderBalance)
class ProviderBalanceAdmin(admin.ModelAdmin):
    list_display = ["provider", "available_cents", "pending_cents", "fetched_at", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
