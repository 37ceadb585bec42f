"""Tables of the manager's console: prospect company events and the suggestions they raise,
job-change notices, and the AMS weights of an industry."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy


class ProspectEvent(models.Model):
    """Something that happened at a prospect's company (imported from a CSV)."""

    class Kind(models.TextChoices):
        FUNDING_ROUND = "funding_round", gettext_lazy("Funding round")
        NEW_HIRE = "new_hire", gettext_lazy("New executive hire")
        EXPANSION = "expansion", gettext_lazy("Expansion")
        ACQUISITION = "acquisition", gettext_lazy("Acquisition")
        PRODUCT_LAUNCH = "product_launch", gettext_lazy("Product launch")

    domain = models.CharField(max_length=253, help_text="Stored lower-case, e.g. acme.com")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_on = models.DateField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "campaigns_prospectevent"  # the table predates the console app
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
        db_table = "campaigns_prospecteventsuggestion"  # the table predates the console app
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


class JobChangeNotice(models.Model):
    """A contact moved (``advocates.JobChange``) from or to the company of an open
    reference request or referral: its rep is told once per (move, request / referral)."""

    job_change = models.ForeignKey(
        "advocates.JobChange", on_delete=models.CASCADE, related_name="notices"
    )
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
        indexes = [models.Index(fields=["rep", "-created_at"], name="jobnotice_rep_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["job_change", "request"],
                condition=models.Q(request__isnull=False),
                name="jobnotice_request_once",
            ),
            models.UniqueConstraint(
                fields=["job_change", "referral"],
                condition=models.Q(referral__isnull=False),
                name="jobnotice_referral_once",
            ),
            models.CheckConstraint(
                condition=models.Q(request__isnull=False) | models.Q(referral__isnull=False),
                name="jobnotice_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_change} → {self.request_id or self.referral_id}"


class AmsIndustryWeights(models.Model):
    """AMS weights for the advocates of one industry (the seed: what advocacy is worth
    varies with the industry and how complex its buying is). Only the settings that
    differ from the program's are kept; the rest follow the program's (console.ams)."""

    for_industry = models.CharField("industry", max_length=100)
    weights = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["for_industry", "id"]
        verbose_name_plural = "AMS industry weights"
        constraints = [
            # Advocates' industries are compared case-insensitively, so is uniqueness.
            models.UniqueConstraint(
                Lower("for_industry"),
                name="ams_industry_weights_once",
                violation_error_message="This industry already has its own AMS weights.",
            ),
        ]

    def __str__(self) -> str:
        return self.for_industry
