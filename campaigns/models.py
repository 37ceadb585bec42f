"""Segments, campaigns and their per-recipient messages, suppression, program settings.

The tables the console works from. Behaviour lives in the modules beside this one:
``segments`` (filters → advocates), ``ams`` (the Advocate Mobilization Score),
``sending`` (batches claimed by workers, fatigue cap, unsubscribe, tracking),
``kinds`` (what each kind of campaign adds), ``triggers`` (campaigns fired by events).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models, transaction
from django.utils import timezone

PROGRAM_SETTINGS_CACHE_KEY = "campaigns:program-settings:v1"


class ProgramSettings(models.Model):
    """The program's own settings: one row (pk=1), edited by managers in the console."""

    name = models.CharField(
        "program name", max_length=80, blank=True, help_text="Shown in the header and emails."
    )
    logo = models.ImageField(upload_to="branding/", blank=True)
    primary_color = models.CharField(
        "brand colour",
        max_length=7,
        default="#4338ca",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #4338ca.")],
    )
    fatigue_cap_per_week = models.PositiveSmallIntegerField(
        "campaign emails per advocate per 7 days",
        default=2,
        validators=[MaxValueValidator(50)],
    )
    # Interpreted (and defaulted, and validated) by campaigns.ams; {} means the defaults.
    ams_weights = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "program settings"
        verbose_name_plural = "program settings"

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(PROGRAM_SETTINGS_CACHE_KEY)
        # Again after commit: a page read between this save and the commit would put the
        # old row back in the cache for its whole timeout.
        transaction.on_commit(lambda: cache.delete(PROGRAM_SETTINGS_CACHE_KEY))

    @property
    def display_name(self) -> str:
        return self.name or settings.PROGRAM_NAME

    @classmethod
    def load(cls) -> ProgramSettings:
        """The settings row (created with defaults on first use), cached until saved."""
        current = cache.get(PROGRAM_SETTINGS_CACHE_KEY)
        if current is None:
            current, _ = cls.objects.get_or_create(pk=1)
            cache.set(PROGRAM_SETTINGS_CACHE_KEY, current, 300)
        return current


class Segment(models.Model):
    """A saved filter over advocates; ``filters`` is interpreted by campaigns.segments."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class Kind(models.TextChoices):
        INVITATION = "invitation", "Program invitation"
        CHALLENGE = "challenge", "Challenge announcement"
        REFERRAL_DRIVE = "referral_drive", "Referral drive"
        REFERENCE_DRIVE = "reference_drive", "Reference drive"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        SENT = "sent", "Sent"

    class Trigger(models.TextChoices):
        NONE = "", "None: send to the audience now or at a date"
        NPS_PROMOTER = "nps_promoter", "An advocate answers NPS 9–10"
        LEVEL_REACHED = "level_reached", "An advocate reaches a level"
        INACTIVE = "inactive", "An advocate has been inactive for N days"
        REFERRAL_WON = "referral_won", "A referral of the advocate is won"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    challenge = models.ForeignKey(
        "challenges.Challenge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=20000, help_text="Placeholders: {{ first_name }} …")
    # Referral drives: the pre-written message advocates can edit and send from the hub.
    suggested_message = models.TextField(max_length=5000, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, blank=True, default="")
    trigger_level = models.ForeignKey(
        "challenges.Level", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    trigger_inactive_days = models.PositiveSmallIntegerField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="campaign_due"),
            models.Index(fields=["trigger", "status"], name="campaign_trigger"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignMessage(models.Model):
    """One email of a campaign to one recipient: created once, sent at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class SkipReason(models.TextChoices):
        NONE = "", "—"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        FATIGUE = "fatigue", "Over the weekly cap"
        INACTIVE = "inactive", "No longer an active advocate"
        CANCELLED = "cancelled", "Campaign cancelled"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    advocate = models.ForeignKey(
        "advocates.Advocate",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="campaign_messages",
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    # Per-recipient extras a kind adds (e.g. the prospect a reference drive pairs).
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(
        max_length=15, choices=SkipReason.choices, blank=True, default=""
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="campaign_message_once"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="campaign_message_queue"),
            models.Index(fields=["advocate", "sent_at"], name="campaign_message_fatigue"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.email}"


class Suppression(models.Model):
    """An address that asked for no more campaign email (honoured from then on)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        MANUAL = "manual", "Added by a manager"

    email = models.EmailField(unique=True, help_text="Stored lower-case.")
    reason = models.CharField(max_length=15, choices=Reason.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.email


class TriggerFire(models.Model):
    """A trigger campaign fired for one advocate: at most once per (campaign, advocate)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="fires")
    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="trigger_fires"
    )
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "advocate"], name="trigger_fire_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} fired for {self.advocate_id}"


# --- Added by campaigns.kinds / campaigns.triggers below this line ---------------------


class CampaignContact(models.Model):
    """A contact a program-invitation campaign invites (imported from a CSV)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField(help_text="Stored lower-case.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    # The invitation whose link the campaign's email carries (set when it is rendered).
    invitation = models.ForeignKey(
        "advocates.Invitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="campaign_contact_once"),
        ]

    def __str__(self) -> str:
        return self.email


class CampaignProspect(models.Model):
    """A prospect of a reference drive (from a CRM CSV) and the advocate paired with them."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prospects")
    name = models.CharField(max_length=200)
    email = models.EmailField(help_text="Stored lower-case.")
    company = models.CharField(max_length=200)
    industry = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    product = models.CharField(max_length=100, blank=True)
    advocate = models.ForeignKey(
        "advocates.Advocate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    score = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    paired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="campaign_prospect_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})"


class CampaignReferral(models.Model):
    """A referral an advocate sent from a referral drive's panel in the hub (credit)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="referrals")
    referral = models.OneToOneField(
        "referrals.Referral", on_delete=models.CASCADE, related_name="campaign_credit"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.campaign_id} → referral {self.referral_id}"


class TriggerWatermark(models.Model):
    """Up to when a trigger campaign's events were evaluated (the next run starts there)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="watermark")
    evaluated_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.campaign_id} until {self.evaluated_until:%Y-%m-%d %H:%M}"


class ProspectEvent(models.Model):
    """Something that happened at a prospect's company (imported from a CSV)."""

    class Kind(models.TextChoices):
        FUNDING_ROUND = "funding_round", "Funding round"
        NEW_HIRE = "new_hire", "New executive hire"
        EXPANSION = "expansion", "Expansion"
        ACQUISITION = "acquisition", "Acquisition"
        PRODUCT_LAUNCH = "product_launch", "Product launch"

    domain = models.CharField(max_length=253, help_text="Stored lower-case, e.g. acme.com")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_on = models.DateField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        constraints = [
            # Importing the same file again changes nothing.
            models.UniqueConstraint(
                fields=["domain", "kind", "occurred_on"], name="prospect_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.get_kind_display()} on {self.occurred_on}"


class ProspectEventSuggestion(models.Model):
    """An event matched an open reference request (or referral): its rep is told once."""

    event = models.ForeignKey(ProspectEvent, on_delete=models.CASCADE, related_name="suggestions")
    request = models.ForeignKey(
        "references.ReferenceRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "request"],
                condition=models.Q(request__isnull=False),
                name="prospect_suggestion_request_once",
            ),
            models.UniqueConstraint(
                fields=["event", "referral"],
                condition=models.Q(referral__isnull=False),
                name="prospect_suggestion_referral_once",
            ),
            models.CheckConstraint(
                condition=models.Q(request__isnull=False) | models.Q(referral__isnull=False),
                name="prospect_suggestion_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.request_id or self.referral_id}"
