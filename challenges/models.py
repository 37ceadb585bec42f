from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.Model):
    """A rank reached by lifetime points (e.g. Insider 0, Advocate 500, Champion 2000)."""

    name = models.CharField(max_length=50, unique=True)
    threshold = models.PositiveIntegerField(unique=True, help_text="Lifetime points needed.")

    class Meta:
        ordering = ["threshold"]

    def __str__(self) -> str:
        return self.name


class Challenge(models.Model):
    class Kind(models.TextChoices):
        SOCIAL_SHARE = "social_share", _("Social share")
        REVIEW = "review", _("Product review")
        TESTIMONIAL = "testimonial", _("Written answer / testimonial")
        UPLOAD = "upload", _("Upload an image")
        SURVEY = "survey", _("Survey")
        EVENT = "event", _("Event RSVP / webinar")
        REFERRAL = "referral", _("Refer a colleague")
        REFERENCE = "reference", _("Take a reference call")
        # Counted by the Advocate Mobilization Score (campaigns.ams) as public advocacy.
        CASE_STUDY = "case_study", _("Case study")
        COMMUNITY_ANSWER = "community_answer", _("Community answer")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        TAG = "tag", _("Advocates with a tag")
        LEVEL = "level", _("A level or higher")
        GROUP = "group", _("Members of a group")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    points = models.PositiveIntegerField()
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    audience_tag = models.ForeignKey(
        "advocates.Tag", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    audience_level = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Groups are archived, never deleted while a challenge names them.
    audience_group = models.ForeignKey(
        "advocates.CommunityGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    completion_limit = models.PositiveSmallIntegerField(
        default=1, help_text="How many times one advocate may complete it."
    )
    auto_approve = models.BooleanField(
        default=False, help_text="Award points at once, without a manager's review."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Kind-specific settings: the link to share or review, the event's URL and time,
    # the survey's questions ([{"label": "...", "kind": "text" | "nps"}]).
    target_url = models.URLField(blank=True)
    event_at = models.DateTimeField(null=True, blank=True)
    questions = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # auto_now on save(), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["status", "starts_at", "ends_at"], name="challenge_open"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="challenge_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="challenge_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(completion_limit__gte=1), name="challenge_limit_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(points__gt=0), name="challenge_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Submission(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")

    challenge = models.ForeignKey(Challenge, on_delete=models.PROTECT, related_name="submissions")
    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="submissions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    url = models.URLField(blank=True, max_length=500)
    text = models.TextField(blank=True, max_length=5000)
    image = models.ImageField(upload_to="submissions/", blank=True)
    answers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # auto_now on save(), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["advocate", "challenge"], name="submission_advocate_challenge"),
            models.Index(fields=["status", "created_at"], name="submission_review_queue"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="submission_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} → {self.challenge_id} ({self.status})"


class NPSResponse(models.Model):
    """One answer to "How likely are you to recommend us?" (0–10)."""

    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="nps_responses"
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    submission = models.OneToOneField(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="nps_response"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=10), name="nps_score_0_10"),
        ]
        indexes = [models.Index(fields=["advocate", "-created_at"], name="nps_advocate_latest")]

    def __str__(self) -> str:
        return f"{self.advocate_id}: {self.score}"


class Badge(models.Model):
    class Rule(models.TextChoices):
        FIRST_CHALLENGE = "first_challenge", _("First challenge completed")
        CHALLENGES = "challenges", _("N challenges completed")
        REVIEWS = "reviews", _("N product reviews")
        STREAK_WEEKS = "streak_weeks", _("Active N weeks in a row")
        FIRST_REFERRAL = "first_referral", _("First referral")
        FIRST_REFERENCE = "first_reference", _("First reference call")

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    rule = models.CharField(max_length=20, choices=Rule.choices)
    count = models.PositiveSmallIntegerField(default=1, help_text="N, for rules that count.")
    icon = models.CharField(max_length=8, default="🏅", help_text="An emoji shown with the badge.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AdvocateBadge(models.Model):
    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="badges"
    )
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="holders")
    awarded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-awarded_at"]
        constraints = [
            models.UniqueConstraint(fields=["advocate", "badge"], name="badge_awarded_once"),
        ]

    def __str__(self) -> str:
        return f"{self.badge} for {self.advocate_id}"


class LevelAchievement(models.Model):
    """That an advocate reached a level: notified once, even if points later drop."""

    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="level_achievements"
    )
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="+")
    reached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["advocate", "level"], name="level_reached_once"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} reached {self.level_id}"
