from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models, transaction

from advocates.models import Advocate, Company, Invitation, Product, Tag, User
from advocates.services.matching_profiles import matching_profiles_refresh
from advocates.services.summary import COUNTED_FIELDS


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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Its industry and size band are part of its advocates' matching profiles.
        matching_profiles_refresh(company_ids=[obj.pk])


@admin.register(Advocate)
class AdvocateAdmin(admin.ModelAdmin):
    # Django 6 will default URLs to https; say so now (and avoid its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["user", "company", "status", "balance", "lifetime_points", "owner_rep"]
    list_filter = ["status", "seniority"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "company__name"]
    list_select_related = ["user", "company", "owner_rep"]
    raw_id_fields = ["user", "owner_rep", "company"]
    # Points change only through the ledger (rewards.services), never by editing here.
    readonly_fields = ["balance", "lifetime_points", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # What was loaded with this form may be stale by now (an award may have landed, the
        # AMS been recomputed): write only the columns the form edits, and the time of the
        # edit. Not the ledger's, nor the counts the referrals and references services
        # keep (advocates.services.summary), nor the scores kept by activity (editable=False).
        kept_elsewhere = {"id", "balance", "lifetime_points", *COUNTED_FIELDS}
        fields = [
            f.name
            for f in obj._meta.concrete_fields
            if (f.editable or getattr(f, "auto_now", False)) and f.name not in kept_elsewhere
        ]
        obj.save(update_fields=fields)
        return None

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # After the products and tags: the matching profile reads them too.
        matching_profiles_refresh(advocate_ids=[form.instance.pk])


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


class LinkedToAdvocatesAdmin(admin.ModelAdmin):
    """Products and tags: deleting one takes it off its advocates' matching profiles."""

    link = ""  # the advocates' field that holds them

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            holders = list(
                Advocate.objects.filter(**{f"{self.link}__in": queryset}).values_list(
                    "pk", flat=True
                )
            )
            super().delete_queryset(request, queryset)
            matching_profiles_refresh(advocate_ids=holders)


@admin.register(Product)
class ProductAdmin(LinkedToAdvocatesAdmin):
    link = "products"


@admin.register(Tag)
class TagAdmin(LinkedToAdvocatesAdmin):
    link = "tags"
