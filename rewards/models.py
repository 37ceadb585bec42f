from __future__ import annotations

from django.db import models
from django.utils import timezone


class LedgerEntry(models.Model):
    """One change of an advocate's points. Append-only: a correction is a new entry.

    ``idempotency_key`` names the event that caused the change
    (e.g. ``challenge-submission:42:approved``); the unique constraint makes a retried
    award or spend a no-op. ``rewards.services`` is the only writer.
    """

    class Kind(models.TextChoices):
        AWARD = "award", "Award"
        SPEND = "spend", "Spend"
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal"
        ADJUSTMENT = "adjustment", "Adjustment"

    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    amount = models.IntegerField(help_text="Positive for points gained, negative for spent.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=255)
    idempotency_key = models.CharField(max_length=200)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    # What caused the entry, as "<app_label>.<model>" and its primary key, for display
    # and audit (a generic relation would cost a join per row on every ledger page).
    source_type = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="ledger_idempotency_key_unique"
            ),
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_non_zero"),
        ]
        indexes = [
            # The hub's "recent points" and per-advocate history.
            models.Index(fields=["advocate", "-created_at"], name="ledger_advocate_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.reason}"


class PeriodPoints(models.Model):
    """Points earned per advocate per week and per month, for live leaderboards.

    Kept by the ledger's services in the same transaction as the entry, so a
    leaderboard reads one indexed row per advocate instead of summing millions of
    ledger entries. Spends do not count; reversals of awards do.
    """

    class Period(models.TextChoices):
        WEEK = "week", "This week"
        MONTH = "month", "This month"

    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.CASCADE, related_name="period_points"
    )
    period = models.CharField(max_length=5, choices=Period.choices)
    starts_on = models.DateField()
    points = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "starts_on", "advocate"], name="period_points_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["period", "starts_on", "-points", "advocate"], name="period_points_rank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} {self.period} {self.starts_on}: {self.points}"
