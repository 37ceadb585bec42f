"""Community discussions: questions and ideas per program or per group, their replies,
idea votes and reports to the moderators.

Bodies are Markdown; ``body_html`` is rendered and sanitised once, when the text is
saved (discussions.markdown), so a page never renders Markdown per view.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Thread(models.Model):
    class Kind(models.TextChoices):
        QUESTION = "question", _("Question")
        IDEA = "idea", _("Idea")

    class IdeaStatus(models.TextChoices):
        OPEN = "open", pgettext_lazy("idea status", "Open")
        UNDER_REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        SHIPPED = "shipped", _("Shipped")
        DECLINED = "declined", _("Declined")

    # Each status inside a sentence ("… is now under review"): words of their own, as
    # lower-casing the label is right in English and wrong for German nouns.
    IDEA_STATUS_IN_SENTENCE = {
        IdeaStatus.OPEN: pgettext_lazy("idea status in a sentence", "open"),
        IdeaStatus.UNDER_REVIEW: pgettext_lazy("idea status in a sentence", "under review"),
        IdeaStatus.PLANNED: pgettext_lazy("idea status in a sentence", "planned"),
        IdeaStatus.SHIPPED: pgettext_lazy("idea status in a sentence", "shipped"),
        IdeaStatus.DECLINED: pgettext_lazy("idea status in a sentence", "declined"),
    }

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.QUESTION)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=10000)
    body_html = models.TextField(editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="discussion_threads"
    )
    # Empty: the whole program's space; set: only the group's members (and managers).
    group = models.ForeignKey(
        "advocates.CommunityGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="threads",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(default=timezone.now, editable=False)
    reply_count = models.PositiveIntegerField(default=0, editable=False)
    # Questions: the accepted reply and the ledger entry that paid its author.
    accepted_reply = models.ForeignKey(
        "discussions.Reply", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answer_award = models.ForeignKey(
        "rewards.LedgerEntry", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Bumped on every accept: names each award's idempotency key, so accepting again
    # after an un-accept pays a new entry instead of replaying the reversed one.
    accept_count = models.PositiveIntegerField(default=0, editable=False)
    # Ideas
    idea_status = models.CharField(
        max_length=15, choices=IdeaStatus.choices, default=IdeaStatus.OPEN
    )
    vote_count = models.PositiveIntegerField(default=0, editable=False)
    # Moderation
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            # The list: the newest activity first, program-wide or within a group.
            models.Index(fields=["-last_activity_at", "-id"], name="thread_activity"),
            models.Index(fields=["group", "-last_activity_at"], name="thread_group_activity"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_question(self) -> bool:
        return self.kind == self.Kind.QUESTION

    @property
    def is_idea(self) -> bool:
        return self.kind == self.Kind.IDEA


class Reply(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="discussion_replies"
    )
    body = models.TextField(max_length=10000)
    body_html = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "replies"
        indexes = [models.Index(fields=["thread", "created_at", "id"], name="reply_thread")]

    def __str__(self) -> str:
        return f"Reply {self.pk} to {self.thread_id}"


class Vote(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="votes")
    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="discussion_votes"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            # One vote per advocate and idea: a double click finds the row.
            models.UniqueConstraint(fields=["thread", "advocate"], name="discussion_vote_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} on {self.thread_id}"


class Report(models.Model):
    """An advocate's flag on a thread or one of its replies, for the moderation queue."""

    class Resolution(models.TextChoices):
        HIDDEN = "hidden", _("Hidden")
        DISMISSED = "dismissed", _("Dismissed")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reports")
    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The queue: open reports, the oldest first.
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(resolved_at__isnull=True),
                name="report_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} on {self.thread_id}"
