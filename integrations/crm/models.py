"""The CRM connectors' tables: a connection per CRM, its cursors and sync runs, and the
CRM's records Vouch has mapped (owners to reps, companies, contacts, deals)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from advocates.models import Company, Person
from references.models import ReferenceRequest
from referrals.models import Referral


class Provider(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"


class CrmConnection(models.Model):
    """Vouch's connection to one CRM: its tokens (encrypted) and how it is doing."""

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Connected")
        # The CRM refused the refresh token (revoked, user deactivated, app removed):
        # nothing is synced until a manager connects again.
        BROKEN = "broken", gettext_lazy("Needs reconnecting")

    class Flow(models.TextChoices):
        OAUTH = "oauth", gettext_lazy("OAuth 2.0, a person's consent")
        JWT = "jwt", gettext_lazy("JWT bearer, an integration user")

    provider = models.CharField(max_length=12, choices=Provider.choices, unique=True)
    flow = models.CharField(max_length=6, choices=Flow.choices, default=Flow.OAUTH)
    account_id = models.CharField(max_length=64, blank=True)
    account_name = models.CharField(max_length=200, blank=True)
    instance_url = models.URLField(blank=True)
    # Fernet ciphertexts (integrations.crm.tokens); never shown.
    access_token_encrypted = models.TextField()
    refresh_token_encrypted = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # A manager's corrections of the provider's default stage map (base.Provider).
    stage_map = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    broken_reason = models.CharField(max_length=300, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.account_name or self.account_id}".strip()

    @property
    def active(self) -> bool:
        return self.status == self.Status.ACTIVE


class SyncCursor(models.Model):
    """Where the last sync of one object stopped: the next asks only for later changes."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="cursors")
    object_name = models.CharField(max_length=12)
    value = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_name"], name="crm_one_cursor_per_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_name} after {self.value or 'the start'}"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", gettext_lazy("Running")
        SUCCEEDED = "succeeded", gettext_lazy("Succeeded")
        PARTIAL = "partial", gettext_lazy("Some records failed")
        RETRYING = "retrying", gettext_lazy("Paused, will retry")
        FAILED = "failed", gettext_lazy("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", pgettext_lazy("sync trigger", "Schedule")
        MANUAL = "manual", gettext_lazy("Sync now")

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    # {"companies": {"created": 2, "updated": 0, "unchanged": 5, "failed": 0}, ...,
    #  "out": {"referrals": 1, "companies": 3, "deals": 0, "failed": 0}}
    counts = models.JSONField(default=dict)
    message = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connection", "-started_at"], name="crm_run_recent")]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} sync {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def counts_in(self) -> dict[str, dict[str, int]]:
        """Per object read: created, updated, unchanged, failed (0 when absent)."""
        keys = ("created", "matched", "updated", "unchanged", "failed", "referrals_moved")
        return {
            name: {key: counts.get(key, 0) for key in keys}
            for name, counts in self.counts.items()
            if name != "out"
        }

    @property
    def counts_out(self) -> dict[str, int]:
        """Written to the CRM: referrals, companies, deals, failed (0 when absent)."""
        out = self.counts.get("out", {})
        return {key: out.get(key, 0) for key in ("referrals", "companies", "deals", "failed")}


class RecordError(models.Model):
    """One CRM record a run could not read or write, and the CRM's reason."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="errors")
    object_name = models.CharField(max_length=12)
    direction = models.CharField(
        max_length=3,
        choices=[
            ("in", pgettext_lazy("sync direction", "In")),
            ("out", pgettext_lazy("sync direction", "Out")),
        ],
    )
    external_id = models.CharField(max_length=64, blank=True)
    # Vouch's side, when the record is ours ("referral 12", "company Acme").
    local = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.object_name} {self.external_id}: {self.message}"


class _Mapped(models.Model):
    """A CRM record Vouch has read: its id there and a digest of the values last applied,
    so a record the CRM sends again unchanged writes nothing."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.external_id}"


class CrmOwner(_Mapped):
    """A CRM user who owns records; ``user`` is the Vouch rep or manager with their email."""

    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="crm_owner_unique")
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id


class CrmCompany(_Mapped):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="crm_records")
    owner = models.ForeignKey(CrmOwner, null=True, blank=True, on_delete=models.SET_NULL)
    # The advocacy last written to the CRM (a digest): unchanged advocacy is not re-sent.
    written_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="crm_company_unique")
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.external_id})"


class CrmContact(_Mapped):
    """A CRM contact: a person in Vouch's graph and, until invited, an invitation candidate."""

    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    title = models.CharField(max_length=200, blank=True)
    company = models.ForeignKey(CrmCompany, null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.ForeignKey(CrmOwner, null=True, blank=True, on_delete=models.SET_NULL)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="crm_contact_unique")
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class CrmDeal(_Mapped):
    """An opportunity/deal: the context of a reference request, or a referral's pipeline."""

    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    stage = models.CharField(max_length=100, blank=True)
    stage_label = models.CharField(max_length=100, blank=True)
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)
    close_date = models.DateField(null=True, blank=True)
    modified_at = models.DateTimeField(null=True, blank=True)
    company = models.ForeignKey(CrmCompany, null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.ForeignKey(CrmOwner, null=True, blank=True, on_delete=models.SET_NULL)
    # The referral Vouch pushed as this deal: its stage and amount follow the deal's.
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="crm_deals"
    )
    # The reference calls it had, last written to the CRM (a digest).
    written_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="crm_deal_unique"),
            models.UniqueConstraint(
                fields=["connection", "referral"],
                condition=models.Q(referral__isnull=False),
                name="crm_one_deal_per_referral",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DealReferenceRequest(models.Model):
    """A reference request made from a CRM deal ("Request a reference" on the record)."""

    deal = models.ForeignKey(CrmDeal, on_delete=models.CASCADE, related_name="requests")
    request = models.OneToOneField(
        ReferenceRequest, on_delete=models.CASCADE, related_name="crm_deal_link"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.deal} → request {self.request_id}"
