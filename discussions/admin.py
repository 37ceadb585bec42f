from django.contrib import admin

from discussions.models import Reply, Report, Thread


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "group", "author", "last_activity_at", "hidden_at")
    list_filter = ("kind", "idea_status")
    search_fields = ("title",)
    raw_id_fields = ("author", "group", "accepted_reply", "answer_award", "locked_by", "hidden_by")


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("pk", "thread", "author", "created_at", "hidden_at")
    raw_id_fields = ("thread", "author", "hidden_by")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("pk", "thread", "reply", "reporter", "created_at", "resolution")
    raw_id_fields = ("thread", "reply", "reporter", "resolved_by")
