from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from advocates.models import Advocate, Company, Invitation, Product, Tag, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "size_band"]
    search_fields = ["name", "domain"]


@admin.register(Advocate)
class AdvocateAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "status", "balance", "lifetime_points", "owner_rep"]
    list_filter = ["status", "seniority"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "company__name"]
    list_select_related = ["user", "company", "owner_rep"]
    raw_id_fields = ["user", "owner_rep", "company"]
    # Points change only through the ledger (rewards.services), never by editing here.
    readonly_fields = ["balance", "lifetime_points", "created_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "invited_by", "created_at", "send_count", "accepted_at"]
    search_fields = ["email"]
    list_select_related = ["invited_by"]
    readonly_fields = [
        "nonce",
        "send_count",
        "delivered_send",
        "sent_at",
        "accepted_at",
        "accepted_by",
    ]


admin.site.register(Product)
admin.site.register(Tag)
