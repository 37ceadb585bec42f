from django.contrib import admin

from references.models import Ask, Candidate, MatchingWeights, ReferencePause, ReferenceRequest


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


@admin.register(ReferenceRequest)
class ReferenceRequestAdmin(admin.ModelAdmin):
    list_display = ["prospect_name", "prospect_company", "rep", "status", "created_at"]
    list_filter = ["status", "call_type"]
    search_fields = ["prospect_name", "prospect_email", "prospect_company", "opportunity_name"]
    raw_id_fields = ["rep", "prospect_person"]
    inlines = [CandidateInline, AskInline]


@admin.register(Ask)
class AskAdmin(admin.ModelAdmin):
    list_display = ["advocate", "request", "status", "asked_at", "deadline"]
    list_filter = ["status"]
    raw_id_fields = ["advocate", "request"]


admin.site.register(MatchingWeights)
admin.site.register(ReferencePause, raw_id_fields=["advocate"])
