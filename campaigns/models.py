"""Segments, campaigns and their per-recipient messages, suppression, program settings.

The tables the console works from. Behaviour lives in the modules beside this one:
``segments`` (filters → advocates), ``ams`` (the Advocate Mobilization Score),
``sending`` (batches claimed by workers, fatigue cap, unsubscribe, tracking),
``kinds`` (what each kind of campaign adds), ``triggers`` (campaigns fired by events).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
        INVITATION = "invitation", _("Program invitation")
        CHALLENGE = "challenge", _("Challenge announcement")
        REFERRAL_DRIVE = "referral_drive", _("Referral drive")
        REFERENCE_DRIVE = "reference_drive", _("Reference drive")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
        SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
        SENDING = "sending", pgettext_lazy("campaign status", "Sending")
        PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")
        SENT = "sent", pgettext_lazy("campaign status", "Sent")

    class Trigger(models.TextChoices):
        NONE = "", _("None: send to the audience now or at a date")
        NPS_PROMOTER = "nps_promoter", _("An advocate answers NPS 9–10")
        LEVEL_REACHED = "level_reached", _("An advocate reaches a level")
        INACTIVE = "inactive", _("An advocate has been inactive for N days")
        REFERRAL_WON = "referral_won", _("A referral of the advocate is won")

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
        PENDING = "pending", pgettext_lazy("message status", "Pending")
        SENDING = "sending", pgettext_lazy("message status", "Sending")
        SENT = "sent", pgettext_lazy("message status", "Sent")
        FAILED = "failed", pgettext_lazy("message status", "Failed")
        SKIPPED = "skipped", pgettext_lazy("message status", "Skipped")

    class SkipReason(models.TextChoices):
        NONE = "", "—"
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        FATIGUE = "fatigue", _("Over the weekly cap")
        INACTIVE = "inactive", _("No longer an active advocate")
        CANCELLED = "cancelled", _("Campaign cancelled")

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
    """An address no campaign email goes to any more: it unsubscribed, bounced hard,
    complained of spam, or a manager added it (honoured from then on)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        MANUAL = "manual", _("Added by a manager")

    email = models.EmailField(unique=True, help_text="Stored lower-case.")
    reason = models.CharField(max_length=15, choices=Reason.choices)
    # What the email provider or the manager said (the bounce's SMTP reply, a note).
    detail = models.CharField(max_length=300, blank=True)
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


# --- Campaign kinds and triggers ---------------------------------------------------------


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
