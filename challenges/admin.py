from django.contrib import admin
from django.db import models

from challenges.models import (
    AdvocateBadge,
    Badge,
    Challenge,
    Level,
    LevelAchievement,
    NPSResponse,
    Submission,
)


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    # Django 6 will default URLs to https; say so now (and avoid its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "kind", "status", "points", "starts_at", "ends_at", "auto_approve"]
    list_filter = ["status", "kind", "audience"]
    search_fields = ["title"]
    raw_id_fields = ["created_by"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    # Django 6 will default URLs to https; say so now (and avoid its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Status changes go through the review queue, which awards and reverses points
    # through the ledger; editing the status here would bypass it.
    list_display = ["id", "challenge", "advocate", "status", "created_at", "reviewed_at"]
    list_filter = ["status"]
    list_select_related = ["challenge", "advocate__user"]
    raw_id_fields = ["challenge", "advocate", "reviewed_by"]
    readonly_fields = ["status", "reviewed_by", "reviewed_at", "rejection_reason"]


@admin.register(NPSResponse)
class NPSResponseAdmin(admin.ModelAdmin):
    list_display = ["advocate", "score", "created_at"]
    list_select_related = ["advocate__user"]
    raw_id_fields = ["advocate", "submission"]


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["name", "threshold"]


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ["name", "rule", "count", "icon"]


@admin.register(AdvocateBadge)
class AdvocateBadgeAdmin(admin.ModelAdmin):
    list_display = ["badge", "advocate", "awarded_at"]
    raw_id_fields = ["advocate"]


@admin.register(LevelAchievement)
class LevelAchievementAdmin(admin.ModelAdmin):
    list_display = ["level", "advocate", "reached_at"]
    raw_id_fields = ["advocate"]
