"""Referrals: who referred whom, how, where it stands, and what it earned.

Every write goes through ``referrals.services`` (``referral_create`` for every path that
creates a referral, ``referral_advance`` for every stage change).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import IntegerListField
from core.models import ProgramSettings


class Method(models.TextChoices):
    LEAD_FORM = "lead_form", _("Lead form")
    EMAIL = "email", _("Email")
    SHAREABLE_LINK = "shareable_link", _("Shareable link")
    SOCIAL = "social", _("Social share")
    PRINT_CARD = "print_card", _("Print card")
    VERBAL = "verbal", _("Verbal")


class Stage(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    QUALIFIED = "qualified", _("Qualified")
    OPPORTUNITY = "opportunity", _("Opportunity")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    REJECTED = "rejected", _("Rejected")


OPEN_STAGES = (Stage.SUBMITTED, Stage.QUALIFIED, Stage.OPPORTUNITY)
# Stages at or past "qualified": reaching any of them earns the qualified-stage reward.
QUALIFIED_OR_LATER = (Stage.QUALIFIED, Stage.OPPORTUNITY, Stage.WON)


class RejectionReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate of an earlier referral")
    SELF = "self", _("Self-referral")
    INVALID = "invalid", _("Invalid lead")


class Referral(models.Model):
    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.PROTECT, related_name="referrals"
    )
    method = models.CharField(max_length=20, choices=Method)
    referred_name = models.CharField(max_length=200)
    # Stored lower-cased by referral_create, so duplicate checks compare exactly.
    referred_email = models.EmailField()
    referred_company = models.CharField(max_length=200, blank=True)
    referred_title = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    # The email's domain, or "" for free mail providers (gmail.com is not a company).
    referred_domain = models.CharField(max_length=253, blank=True)
    stage = models.CharField(max_length=12, choices=Stage, default=Stage.SUBMITTED)
    rejection_reason = models.CharField(max_length=12, choices=RejectionReason, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    owner_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routed_referrals",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who recorded it (the advocate, a rep for a verbal referral, or no one).",
    )
    deal_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the latest stage change happened (per its source): an older CRM event than
    # this one never moves the referral back.
    stage_changed_at = models.DateTimeField(default=timezone.now)
    won_at = models.DateTimeField(null=True, blank=True)
    # A won referral's customer invited to join as an advocate (referral_invite_referred):
    # the chain. Whoever accepts that invitation was brought in by this referral, so by
    # its advocate (referrals.chains), and a referral they win later pays this advocate
    # the rule's second-generation points.
    invitation = models.OneToOneField(
        "advocates.Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="from_referral",
    )
    # Set once the new-referral email went out, so a retried or re-queued task
    # (outbox drain, redelivery after a crash) does not email the rep again.
    rep_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # auto_now on save(), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="referral_external_id_unique",
            ),
            models.CheckConstraint(
                condition=(Q(stage=Stage.REJECTED) & ~Q(rejection_reason=""))
                | (~Q(stage=Stage.REJECTED) & Q(rejection_reason="")),
                name="referral_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(deal_amount__isnull=True) | Q(deal_amount__gte=0),
                name="referral_deal_amount_non_negative",
            ),
        ]
        indexes = [
            # KPIs read one window of created_at (rejected left out).
            models.Index(fields=["created_at", "stage"], name="referral_kpi_window"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="referral_updated"),
            # The KPIs' and the console's window aggregates read only these columns of
            # non-rejected referrals: an index-only scan, not the table's heap. Key
            # columns, not INCLUDE, so SQLite builds the same index without a warning.
            models.Index(
                fields=["created_at", "advocate", "method", "stage", "won_at", "deal_amount", "id"],
                condition=~Q(stage=Stage.REJECTED),
                name="referral_kpi_cover",
            ),
            # The rep's list: their routed referrals, newest first, by stage.
            models.Index(fields=["owner_rep", "-created_at"], name="referral_rep_list"),
            # The pipeline paginator's COUNT(*) of a rep's non-rejected (or one stage's)
            # referrals, read from this index alone.
            models.Index(fields=["owner_rep", "stage"], name="referral_rep_stage"),
            # The advocate's tracker and the per-advocate daily limit.
            models.Index(fields=["advocate", "-created_at"], name="referral_advocate_recent"),
            # Duplicate checks: same email / same company domain within 180 days.
            models.Index(fields=["referred_email", "created_at"], name="referral_dupe_email"),
            models.Index(fields=["referred_domain", "created_at"], name="referral_dupe_domain"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.referred_name} ({self.get_stage_display()})"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class ReferralStageChange(models.Model):
    """One timestamped stage change (the creation is the first, from "")."""

    class Source(models.TextChoices):
        SYSTEM = "system", "Vouch"
        REP = "rep", _("Rep")
        CRM = "crm", "CRM"
        IMPORT = "import", _("Import")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="changes")
    from_stage = models.CharField(max_length=12, choices=Stage, blank=True)
    to_stage = models.CharField(max_length=12, choices=Stage)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SYSTEM)
    deal_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["referral", "occurred_at"], name="referral_change_time")]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_stage or '-'} → {self.to_stage}"


class ReferralLink(models.Model):
    """An advocate's personal link (/r/<code>/) and the short code printed on cards."""

    advocate = models.OneToOneField(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="referral_link"
    )
    code = models.CharField(max_length=16, unique=True)
    card_code = models.CharField(max_length=8, unique=True)
    visits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.code} / {self.card_code}"


class ReferralMessage(models.Model):
    """The email an advocate wrote to a colleague (sent by Celery, once)."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="message")
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.subject


class RewardRule(models.Model):
    """What a won referral earns. One rule is active at a time (the program's)."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed points")
        PERCENT = "percent", _("Percent of the deal amount")
        TIERS = "tiers", _("Tiers by deal amount")

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FIXED)
    fixed_points = models.PositiveIntegerField(default=0)
    percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal(0),
        help_text="Percent of the deal amount; one point per currency unit.",
    )
    # [{"min_amount": "0", "points": 100}, {"min_amount": "10000", "points": 500}]:
    # the highest tier whose min_amount the deal reaches applies.
    tiers = models.JSONField(default=list, blank=True)
    cap_points = models.PositiveIntegerField(null=True, blank=True)
    qualified_points = models.PositiveIntegerField(
        default=0, help_text="Also paid once when a referral reaches qualified (0: none)."
    )
    # Escalating rewards (the more an advocate wins, the more each win earns):
    # [{"min_won": 3, "multiplier": "1.5"}, {"min_won": 6, "multiplier": "2"}]: the
    # advocate's Nth won referral earns the won points times the multiplier of the highest
    # tier whose min_won N reaches (×1 below the first tier). Apart from ``tiers``, which
    # are by deal amount: the two combine.
    count_tiers = models.JSONField(default=list, blank=True)
    second_generation_points = models.PositiveIntegerField(
        default=0,
        help_text="Paid to the advocate whose referral brought in a new advocate, each time "
        "a referral of that new advocate is won (0: none).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="reward_rule_one_active"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def won_points(self, amount: Decimal | None, *, limit: int | None = None) -> int:
        """Points for a won deal of ``amount``: never more than the program's maximum
        points per event, so a rule without a cap (or one written before the limit, or
        above it) cannot pay a fortune on a huge or mistyped amount. ``limit``: that
        maximum, when the caller has read it already (an import pays thousands)."""
        if self.kind == self.Kind.FIXED:
            points = self.fixed_points
        elif amount is None:
            points = 0
        elif self.kind == self.Kind.PERCENT:
            points = int((amount * self.percent / 100).to_integral_value(ROUND_FLOOR))
        else:
            points = 0
            reached = [t for t in self.tiers if Decimal(str(t["min_amount"])) <= amount]
            if reached:
                points = int(max(reached, key=lambda t: Decimal(str(t["min_amount"])))["points"])
        if self.cap_points is not None:
            points = min(points, self.cap_points)
        return _bounded(points, limit)

    def multiplier(self, nth_won: int) -> Decimal:
        """The count tier's multiplier for the advocate's ``nth_won`` won referral."""
        reached = [t for t in self.count_tiers if int(t["min_won"]) <= nth_won]
        if not reached:
            return Decimal(1)
        return Decimal(str(max(reached, key=lambda t: int(t["min_won"]))["multiplier"]))

    def escalated(self, points: int, nth_won: int) -> int:
        """``points`` (already capped by the rule) times the count tier's multiplier,
        within the program's maximum points per event."""
        scaled = Decimal(points) * self.multiplier(nth_won)
        return _bounded(int(scaled.to_integral_value(ROUND_FLOOR)))

    def second_generation_reward_points(self) -> int:
        return _bounded(self.second_generation_points)

    def qualified_reward_points(self) -> int:
        """``qualified_points``, within the program's maximum points per event."""
        return _bounded(self.qualified_points)

    @property
    def depends_on_amount(self) -> bool:
        return self.kind != self.Kind.FIXED


def _bounded(points: int, limit: int | None = None) -> int:
    if limit is None:
        limit = ProgramSettings.load().max_points_per_event
    return max(0, min(points, limit))


class ReferralReward(models.Model):
    """Points paid for a referral, with what happened to them.

    ``round`` counts payouts of one kind: a won referral moved back and won again is
    paid a second round (its own idempotency key). ``owed``: the referral stopped being
    won but the advocate had already spent the points, so the reversal is owed.
    """

    class Kind(models.TextChoices):
        QUALIFIED = "qualified", _("Qualified")
        WON = "won", _("Won")
        # Paid to the advocate who brought in this referral's advocate (the chain), not
        # to this referral's advocate: its ledger entry names who got it.
        SECOND_GENERATION = "second_gen", _("Second generation")

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        REVERSED = "reversed", _("Reversed")
        OWED = "owed", _("Reversal owed")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rewards")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(default=1)
    points = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PAID)
    ledger_entry = models.OneToOneField(
        "rewards.LedgerEntry", on_delete=models.PROTECT, related_name="+"
    )
    reversal_entry = models.OneToOneField(
        "rewards.LedgerEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "kind", "round"], name="referral_reward_once_per_round"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="referral_reward_status")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} r{self.round}: {self.points} ({self.status})"


class ReferralDay(models.Model):
    """The additive referral KPIs of one UTC day and method: the referrals created that
    day by that method (rejected ones left out), those won, those won with a date, the
    won deals' amounts and the points paid or owed for them. A window's figures are a
    sum over its days, whatever the number of referrals in it.

    Kept by the services that write referrals and their rewards
    (``referrals.services.figures``); recomputed from those rows, never patched.
    """

    day = models.DateField()
    method = models.CharField(max_length=20, choices=Method)
    referrals = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    timed = models.PositiveIntegerField(default=0)  # won with a won_at
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    reward_points = models.BigIntegerField(default=0)  # paid or owed

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "method"], name="referral_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.method}: {self.referrals}"


class ReferralWonTime(models.Model):
    """How many won deals (with a won date) of the referrals created on one UTC day took
    ``whole_days`` whole days from referral to won. The KPIs' median adds these up over
    the window to find which whole days its middle deals took, then sorts only the deals
    of those days instead of every won deal of the window. Kept with ``ReferralDay``."""

    day = models.DateField()
    whole_days = models.IntegerField()
    deals = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "whole_days"], name="referral_won_time_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.deals} won in {self.whole_days} days"


EPOCH = date(1970, 1, 1)


def day_number(moment: datetime | date) -> int:
    """A UTC day as ``ReferrerDays`` stores it: days since 1970-01-01."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return (moment - EPOCH).days


class ReferrerDays(models.Model):
    """The days (UTC, as days since 1970-01-01, sorted, one per referral) on which one
    advocate made their referrals and the referrals they won, rejected ones left out.

    The KPIs' per-advocate figures (referring advocates, their distribution, the top
    1 % and 10 %) need each advocate's count in the window: on PostgreSQL that is two
    binary searches of these lists per advocate, however long the window. Kept with
    ``ReferralDay``.
    """

    advocate = models.OneToOneField(
        "advocates.Advocate", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    days = IntegerListField()
    won_days = IntegerListField()

    def __str__(self) -> str:
        return f"Referral days of advocate {self.advocate_id}"


class RevenueGoal(models.Model):
    """A manager's referral revenue goal for one calendar quarter (console forecast)."""

    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "quarter"], name="revenue_goal_one_per_quarter"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="revenue_goal_quarter_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="revenue_goal_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.year} Q{self.quarter}: {self.amount}"


class CrmEvent(models.Model):
    """An event received on the CRM API, kept so each id is applied once."""

    event_id = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=50)
    referral = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="crm_events"
    )
    status_code = models.PositiveSmallIntegerField()
    result = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.status_code})"


class ImportJob(models.Model):
    """One CSV upload from the console, imported by a Celery task (referrals.import_jobs).

    The file waits in the default storage (object storage in production) under a random
    name until the task has read it. Counts move while the task runs; the first
    ``REPORT_CAP`` errors and flagged rows are kept with their totals.
    """

    REPORT_CAP = 500

    class Kind(models.TextChoices):
        ADVOCATES = "advocates", _("Advocates")
        REFERRALS = "referrals", _("Referrals")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    invite = models.BooleanField(default=False)
    file = models.FileField(max_length=255, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    flagged_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"line": 3, "reason": "..."}]
    flagged = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)  # why a failed job stopped
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="referrals_importjob_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["advocates", "referrals"]),
                name="referrals_importjob_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.finished else 0
        return min(100, self.rows_read * 100 // self.rows_total)

    @staticmethod
    def time_limit() -> int:
        """Seconds an import's task may run before Celery kills it.

        A 10,000-row upload can outrun the shared task time limit, so an import may run
        as long as the broker keeps its message from other workers (the visibility
        timeout), less ten minutes: a running import is never handed to a second worker.
        """
        visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
        return max(int(settings.CELERY_TASK_TIME_LIMIT), int(visibility) - 600)

    @property
    def stalled(self) -> bool:
        """Started longer ago than its task may run (the time limit kills it): its worker
        is gone. ``import_jobs_fail_stalled`` marks it failed."""
        if self.status != self.Status.RUNNING or self.started_at is None:
            return False
        return (timezone.now() - self.started_at).total_seconds() > self.time_limit()
