from datetime import UTC

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from referrals.forms import RewardRuleForm
from referrals.kpis import kpis_changed
from referrals.models import (
    CrmEvent,
    ImportJob,
    Referral,
    ReferralLink,
    ReferralReward,
    ReferralStageChange,
    RewardRule,
)
from referrals.services.figures import referral_figures_refresh
from referrals.services.summary import referral_counts_refresh


class StageChangeInline(admin.TabularInline):
    model = ReferralStageChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_stage", "to_stage", "occurred_at", "recorded_at", "actor", "source")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    # Stages move only through referrals.services.referral_advance (rewards follow them).
    list_display = [
        "id",
        "referred_name",
        "referred_email",
        "advocate",
        "method",
        "stage",
        "owner_rep",
        "created_at",
    ]
    list_filter = ["stage", "method"]
    search_fields = ["referred_name", "referred_email", "referred_company", "external_id"]
    list_select_related = ["advocate__user", "owner_rep"]
    raw_id_fields = ["advocate", "owner_rep", "duplicate_of", "created_by"]
    readonly_fields = ["stage", "rejection_reason", "stage_changed_at", "won_at", "deal_amount"]
    inlines = [StageChangeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Referrals are created through referral_create (checks, routing, email) only.
        return False

    # The admin may still change the advocate, method or date, or delete: the console's
    # cached KPIs must not outlive that (referrals.kpis.referral_kpis_cached), nor the
    # advocates' referral counts (referrals.services.summary), and the KPIs' rollups are
    # recomputed where the referral was and where it is now.
    def save_model(self, request: HttpRequest, obj: Referral, form: object, change: bool) -> None:
        before = _where(Referral.objects.filter(pk=obj.pk))
        super().save_model(request, obj, form, change)
        kpis_changed()
        referral_figures_refresh(referral_ids=[obj.pk], **before)
        referral_counts_refresh(advocate_ids={*before["advocate_ids"], obj.advocate_id})

    def delete_model(self, request: HttpRequest, obj: Referral) -> None:
        self.delete_queryset(request, Referral.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        with transaction.atomic():
            before = _where(queryset)
            super().delete_queryset(request, queryset)
            kpis_changed()
            referral_figures_refresh(**before)
            referral_counts_refresh(advocate_ids=before["advocate_ids"])


def _where(referrals: QuerySet[Referral]) -> dict[str, set]:
    """The days and advocates of these referrals, as ``referral_figures_refresh`` takes."""
    rows = list(referrals.values_list("created_at", "advocate_id"))
    return {
        "days": {created_at.astimezone(UTC).date() for created_at, _ in rows},
        "advocate_ids": {advocate_id for _, advocate_id in rows},
    }


@admin.register(ReferralLink)
class ReferralLinkAdmin(admin.ModelAdmin):
    list_display = ["advocate", "code", "card_code", "visits"]
    search_fields = ["code", "card_code", "advocate__user__email"]
    raw_id_fields = ["advocate"]
    readonly_fields = ["visits"]


@admin.register(RewardRule)
class RewardRuleAdmin(admin.ModelAdmin):
    form = RewardRuleForm
    list_display = [
        "name",
        "kind",
        "is_active",
        "fixed_points",
        "percent",
        "cap_points",
        "qualified_points",
    ]


@admin.register(ReferralReward)
class ReferralRewardAdmin(admin.ModelAdmin):
    # "owed" lists reversals the advocate could not pay back (points already spent).
    list_display = ["referral", "kind", "round", "points", "status", "updated_at"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["referral", "ledger_entry", "reversal_entry"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ReferralReward) -> None:
        self.delete_queryset(request, ReferralReward.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReferralReward]) -> None:
        # The points paid for a referral are a KPI of its day.
        with transaction.atomic():
            referrals = list(queryset.values_list("referral_id", flat=True))
            super().delete_queryset(request, queryset)
            kpis_changed()
            referral_figures_refresh(referral_ids=referrals)


@admin.register(CrmEvent)
class CrmEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "referral", "status_code", "received_at"]
    search_fields = ["event_id"]
    raw_id_fields = ["referral"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    # Jobs are made by the console's upload and moved only by their task.
    list_display = ["id", "kind", "filename", "status", "rows_total", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
