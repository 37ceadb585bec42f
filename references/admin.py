from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from references.models import Ask, Candidate, MatchingWeights, ReferencePause, ReferenceRequest
from references.services.summary import reference_counts_refresh


class CandidateInline(admin.TabularInline):
    model = Candidate
    extra = 0
    raw_id_fields = ["advocate"]
    readonly_fields = ["rank", "score", "reasons", "public_reasons", "chosen_at"]


class AskInline(admin.TabularInline):
    model = Ask
    extra = 0
    raw_id_fields = ["advocate"]
    fields = ("advocate", "status", "asked_at", "deadline", "answered_at", "completed_at")
    readonly_fields = fields


def _asking(requests: QuerySet[ReferenceRequest]) -> set[int]:
    return set(Ask.objects.filter(request__in=requests).values_list("advocate_id", flat=True))


# Deleting a request deletes its asks, and the admin may change an ask's advocate or
# status: the advocates' reference counts follow (references.services.summary).
@admin.register(ReferenceRequest)
class ReferenceRequestAdmin(admin.ModelAdmin):
    list_display = ["prospect_name", "prospect_company", "rep", "status", "created_at"]
    list_filter = ["status", "call_type"]
    search_fields = ["prospect_name", "prospect_email", "prospect_company", "opportunity_name"]
    raw_id_fields = ["rep", "prospect_person"]
    inlines = [CandidateInline, AskInline]

    def delete_model(self, request: HttpRequest, obj: ReferenceRequest) -> None:
        advocate_ids = _asking(ReferenceRequest.objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        reference_counts_refresh(advocate_ids=advocate_ids)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReferenceRequest]) -> None:
        advocate_ids = _asking(queryset)
        super().delete_queryset(request, queryset)
        reference_counts_refresh(advocate_ids=advocate_ids)


@admin.register(Ask)
class AskAdmin(admin.ModelAdmin):
    list_display = ["advocate", "request", "status", "asked_at", "deadline"]
    list_filter = ["status"]
    raw_id_fields = ["advocate", "request"]

    def save_model(self, request: HttpRequest, obj: Ask, form: object, change: bool) -> None:
        before = set(
            Ask.objects.filter(pk=obj.pk).values_list("advocate_id", flat=True) if change else ()
        )
        super().save_model(request, obj, form, change)
        reference_counts_refresh(advocate_ids={*before, obj.advocate_id})

    def delete_model(self, request: HttpRequest, obj: Ask) -> None:
        super().delete_model(request, obj)
        reference_counts_refresh(advocate_ids=[obj.advocate_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Ask]) -> None:
        advocate_ids = set(queryset.values_list("advocate_id", flat=True))
        super().delete_queryset(request, queryset)
        reference_counts_refresh(advocate_ids=advocate_ids)


admin.site.register(MatchingWeights)
admin.site.register(ReferencePause, raw_id_fields=["advocate"])
