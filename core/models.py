"""What every app shares: program settings, the audit log and the task outbox."""

from __future__ import annotations

from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.cache import FRAGMENTS_EPOCH_KEY

PROGRAM_SETTINGS_CACHE_KEY = "campaigns:program-settings:v1"
# The settings a web request has read, kept for the rest of it (one snapshot per request,
# however many times the layout and the services ask): _IN_REQUEST while none yet; None
# outside a request (tasks, commands), where every load reads the cache.
_IN_REQUEST = object()
_request_settings: ContextVar[Any] = ContextVar("program_settings", default=None)

# Limits on what one event may pay. Every points column (LedgerEntry.amount, the
# advocate's balance and lifetime points, PeriodPoints.points, RewardRule's points,
# ReferralReward.points, Challenge.points) is a 32-bit integer on PostgreSQL: at most
# 2**31-1, about 2.1 billion. A million points per event (and ten million at most, if
# a program raises it) keeps any single award at 0.05 % (0.5 %) of that, so it takes
# thousands of maximal awards to one advocate before a balance comes near it. A hundred
# million per deal is far beyond a B2B deal, yet far below what Referral.deal_amount
# (14 digits) holds; a billion at most, so a mistyped extra digit or three is refused.
MAX_POINTS_PER_EVENT_DEFAULT = 1_000_000
MAX_POINTS_PER_EVENT_CEILING = 10_000_000
MAX_DEAL_AMOUNT_DEFAULT = Decimal("100000000.00")
MAX_DEAL_AMOUNT_CEILING = Decimal("1000000000.00")


class UpdatedAtOnSave(models.Model):
    """A model whose ``updated_at`` (auto_now) moves on every save, including the partial
    ones: ``save(update_fields=[...])`` skips an auto_now field it is not told about, and a
    service that forgot to list it would hide its change from the API's ``updated_since``.
    QuerySet.update() still sets it by hand."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


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
    max_deal_amount = models.DecimalField(
        "maximum deal amount",
        max_digits=14,
        decimal_places=2,
        default=MAX_DEAL_AMOUNT_DEFAULT,
        validators=[MinValueValidator(Decimal(1)), MaxValueValidator(MAX_DEAL_AMOUNT_CEILING)],
        help_text="A referral's deal amount above this is refused (rep form, CRM, import).",
    )
    max_points_per_event = models.PositiveIntegerField(
        "maximum points per event",
        default=MAX_POINTS_PER_EVENT_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POINTS_PER_EVENT_CEILING)],
        help_text="No single award pays more: reward rules are clamped to it, awards above "
        "it are refused.",
    )
    accepted_answer_points = models.PositiveIntegerField(
        "points for an accepted answer",
        default=25,
        validators=[MaxValueValidator(MAX_POINTS_PER_EVENT_CEILING)],
        help_text="Paid once to the advocate whose reply the asker accepts in the community; "
        "0 pays nothing.",
    )
    # Interpreted (and defaulted, and validated) by campaigns.ams; {} means the defaults.
    ams_weights = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "campaigns_programsettings"  # the table predates the core app
        verbose_name = "program settings"
        verbose_name_plural = "program settings"

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(PROGRAM_SETTINGS_CACHE_KEY)
        if _request_settings.get() is not None:
            _request_settings.set(_IN_REQUEST)  # the rest of this request reads the new row
        # Again after commit: a page read between this save and the commit would put the
        # old row back in the cache for its whole timeout.
        transaction.on_commit(lambda: cache.delete(PROGRAM_SETTINGS_CACHE_KEY))
        # The program's name and words are in cached page fragments (core.fragments).
        transaction.on_commit(lambda: cache.delete(FRAGMENTS_EPOCH_KEY))

    @property
    def display_name(self) -> str:
        return self.name or settings.PROGRAM_NAME

    @classmethod
    def load(cls) -> ProgramSettings:
        """The settings row (created with defaults on first use), cached until saved; in a
        web request, read once for the whole request."""
        kept = _request_settings.get()
        if isinstance(kept, ProgramSettings):
            return kept
        current = cache.get(PROGRAM_SETTINGS_CACHE_KEY)
        if current is None:
            current, _ = cls.objects.get_or_create(pk=1)
            cache.set(PROGRAM_SETTINGS_CACHE_KEY, current, 300)
        if kept is _IN_REQUEST:
            _request_settings.set(current)
        return current


def program_settings_cache_key() -> str | None:
    """The settings' cache key while a web request has not read them yet, else None: the
    session store fetches them in the same round trip as the session (core.sessions)."""
    return PROGRAM_SETTINGS_CACHE_KEY if _request_settings.get() is _IN_REQUEST else None


def program_settings_fetched(current: ProgramSettings | None) -> None:
    """The settings the session store fetched for this request (None: not cached)."""
    if current is not None and _request_settings.get() is _IN_REQUEST:
        _request_settings.set(current)


def program_settings_request_started(**kwargs: Any) -> None:
    _request_settings.set(_IN_REQUEST)


def program_settings_request_finished(**kwargs: Any) -> None:
    _request_settings.set(None)


class AuditEntry(models.Model):
    """One manager action, kept for accountability (written by core.audit)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    action = models.CharField(max_length=60, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "advocates_auditentry"  # the table predates the core app
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"


class OutboxTask(models.Model):
    """A Celery task to send, written in the transaction of the action that wants it.

    core.outbox publishes it right after commit and marks it sent; when the broker
    is unreachable the row stays unsent and the ``outbox_drain`` beat task sends it
    later, so an action that committed never loses its follow-up work (email...).
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    # Indexed for the purge of old sent rows (a range at the old end, not a scan).
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "advocates_outboxtask"  # the table predates the core app
        indexes = [
            # The drain reads only unsent rows, oldest first: a small partial index,
            # however many sent rows are kept.
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_unsent_idx",
            )
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else f"unsent ({self.attempts} attempts)"
        return f"{self.task} {state}"


class WebhookEndpoint(models.Model):
    """A receiver of the program's domain events (core.events), signed per Standard Webhooks."""

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # "whsec_" + base64 of random bytes (the Standard Webhooks secret format). Kept in
    # clear: signing needs it. Shown to the manager once, when the endpoint is created.
    secret = models.CharField(max_length=100)
    # Event types this endpoint receives; empty means every type.
    event_types = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event to one endpoint: sent after commit, retried with backoff until delivered."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        DELIVERED = "delivered", gettext_lazy("Delivered")
        FAILED = "failed", gettext_lazy("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The Standard Webhooks message id (header webhook-id): the same on every retry and
    # resend of one event, so a receiver can drop what it has already processed.
    event_id = models.CharField(max_length=40, db_index=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The retry sweep reads only pending rows that are due: a small partial index.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due_idx",
            ),
            # The delivery log of one endpoint, newest first.
            models.Index(
                fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to {self.endpoint_id}: {self.status}"
