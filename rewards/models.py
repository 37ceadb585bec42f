from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy


class LedgerEntry(models.Model):
    """One change of an advocate's points. Append-only: a correction is a new entry.

    ``idempotency_key`` names the event that caused the change
    (e.g. ``challenge-submission:42:approved``); the unique constraint makes a retried
    award or spend a no-op. ``rewards.services`` is the only writer.
    """

    class Kind(models.TextChoices):
        AWARD = "award", _("Award")
        SPEND = "spend", _("Spend")
        REFUND = "refund", _("Refund")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")

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
        WEEK = "week", _("This week")
        MONTH = "month", _("This month")

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


class Reward(models.Model):
    """Something advocates can redeem their points for, managed by community managers.

    ``stock`` is the number of units left (null: unlimited); the database refuses a
    negative stock and ``rewards.services.catalog.reward_redeem`` takes units under a row lock.
    """

    class Kind(models.TextChoices):
        SWAG = "swag", _("Swag")
        GIFT_CARD = "gift_card", _("Gift card")
        CHARITY = "charity", _("Charity donation")
        EXPERIENCE = "experience", _("Networking experience")
        UPGRADE = "upgrade", _("Service upgrade")

    class LimitPeriod(models.TextChoices):
        WEEK = "week", _("per week")
        MONTH = "month", _("per month")
        QUARTER = "quarter", _("per quarter")
        YEAR = "year", _("per year")
        EVER = "ever", _("in total")

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    image = models.ImageField(upload_to="rewards/", blank=True)
    points_cost = models.PositiveIntegerField("points")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    stock = models.PositiveIntegerField(
        null=True, blank=True, help_text="Units left. Leave empty for unlimited."
    )
    limit_count = models.PositiveSmallIntegerField(
        "limit per advocate",
        null=True,
        blank=True,
        help_text="How many times one advocate may redeem it per period. Empty: no limit.",
    )
    limit_period = models.CharField(max_length=8, choices=LimitPeriod.choices, blank=True)
    starts_at = models.DateTimeField("available from", null=True, blank=True)
    ends_at = models.DateTimeField("available until", null=True, blank=True)
    is_active = models.BooleanField("active", default=True)
    # Only this group's members see and may redeem it (empty: every advocate).
    group = models.ForeignKey(
        "advocates.CommunityGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="only for the group",
    )
    needs_shipping = models.BooleanField(
        default=False, help_text="Ask the advocate for a shipping address when redeeming."
    )
    # Fulfilment through a provider (rewards.fulfilment): when set and the provider is
    # configured, approving a redemption orders it there; otherwise it stays manual.
    fulfilment_provider = models.CharField(
        "fulfilled by",
        max_length=20,
        choices=[("", "A manager (by hand)"), ("tremendous", "Tremendous")],
        blank=True,
        default="",
    )
    provider_products = models.CharField(
        "provider product ids",
        max_length=500,
        blank=True,
        help_text="Comma-separated Tremendous product ids the advocate may choose from.",
    )
    provider_campaign_id = models.CharField(
        "provider campaign id",
        max_length=64,
        blank=True,
        help_text="A Tremendous campaign (its products, message and look). Empty: the "
        "site's default campaign, if any.",
    )
    provider_denomination = models.DecimalField(
        "value",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What the provider sends, e.g. 25.00.",
    )
    provider_currency = models.CharField("currency", max_length=3, blank=True, default="USD")
    # What one unit costs the company in money (the program ROI page counts redemptions
    # times this); empty: not known, counted as nothing.
    cost_amount = models.DecimalField(
        "cost to the company",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="What one redemption costs the company in money (for the ROI page). Optional.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["points_cost", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_cost__gt=0), name="reward_points_cost_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(stock__gte=0),
                name="reward_stock_non_negative",
            ),
            # A limit is a count *and* a period, or neither.
            models.CheckConstraint(
                condition=(models.Q(limit_count__isnull=True) & models.Q(limit_period=""))
                | (models.Q(limit_count__gt=0) & ~models.Q(limit_period="")),
                name="reward_limit_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="reward_window_ordered",
            ),
            # A provider-backed reward says what value to order (its products or campaign
            # may come from the site's default campaign, TREMENDOUS_CAMPAIGN_ID).
            models.CheckConstraint(
                condition=models.Q(fulfilment_provider="")
                | models.Q(provider_denomination__gt=Decimal(0)),
                name="reward_provider_value",
            ),
            models.CheckConstraint(
                condition=models.Q(cost_amount__isnull=True)
                | models.Q(cost_amount__gte=Decimal(0)),
                name="reward_cost_non_negative",
            ),
        ]
        indexes = [
            # The advocate's catalog reads active rewards by cost.
            models.Index(fields=["is_active", "points_cost"], name="reward_active_cost"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="reward_updated"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_available(self, now: datetime | None = None) -> bool:
        """Active and inside its window (stock is checked separately)."""
        now = now or timezone.now()
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or self.ends_at > now)
        )

    @property
    def out_of_stock(self) -> bool:
        return self.stock is not None and self.stock <= 0

    @property
    def provider_product_ids(self) -> list[str]:
        return [part.strip() for part in self.provider_products.split(",") if part.strip()]

    @property
    def limit_label(self) -> str:
        if not self.limit_count:
            return ""
        # "2 times per month": the count and the period in one sentence per period, so
        # each language can word it its own way.
        count = self.limit_count
        period = self.limit_period
        if period == self.LimitPeriod.WEEK:
            text = ngettext("once per week", "%(count)d times per week", count)
        elif period == self.LimitPeriod.MONTH:
            text = ngettext("once per month", "%(count)d times per month", count)
        elif period == self.LimitPeriod.QUARTER:
            text = ngettext("once per quarter", "%(count)d times per quarter", count)
        elif period == self.LimitPeriod.YEAR:
            text = ngettext("once per year", "%(count)d times per year", count)
        elif period == self.LimitPeriod.EVER:
            text = ngettext("once in total", "%(count)d times in total", count)
        else:
            text = ngettext("once", "%(count)d times", count)
        return text % {"count": count}


class Redemption(models.Model):
    """An advocate's redemption of a reward, and its way through fulfilment.

    ``idempotency_key`` is the one-time token of the confirmation form, so a double
    submit yields one redemption. Status changes are conditional updates (old -> new),
    so a double click or a retry changes nothing. ``fulfilment_note`` (a tracking number
    or a gift-card code) is shown to the redeeming advocate only.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED)
    # Each status inside a sentence ("#12 is approved."): lower-casing the label would be
    # wrong for German nouns.
    STATUS_IN_SENTENCE = {
        Status.REQUESTED: pgettext_lazy("redemption status in a sentence", "requested"),
        Status.APPROVED: pgettext_lazy("redemption status in a sentence", "approved"),
        Status.FULFILLED: pgettext_lazy("redemption status in a sentence", "fulfilled"),
        Status.CANCELLED: pgettext_lazy("redemption status in a sentence", "cancelled"),
    }

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    advocate = models.ForeignKey(
        "advocates.Advocate", on_delete=models.PROTECT, related_name="redemptions"
    )
    points = models.PositiveIntegerField(help_text="What it cost when redeemed.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    idempotency_key = models.CharField(max_length=64)
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_address = models.TextField(max_length=1000, blank=True)
    shipping_phone = models.CharField(max_length=40, blank=True)
    spend_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refund_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fulfilment_note = models.TextField(blank=True, max_length=1000)
    cancel_reason = models.CharField(max_length=255, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When the email for each step went out; the email task sets them with a
    # conditional update, so a retried task does not send a step twice.
    notified_requested_at = models.DateTimeField(null=True, blank=True)
    notified_approved_at = models.DateTimeField(null=True, blank=True)
    notified_fulfilled_at = models.DateTimeField(null=True, blank=True)
    notified_cancelled_at = models.DateTimeField(null=True, blank=True)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # auto_now on save(), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="redemption_idempotency_key_unique"
            ),
        ]
        indexes = [
            # "My redemptions" and the per-advocate limit count.
            models.Index(
                fields=["advocate", "reward", "-created_at"], name="redemption_advocate_recent"
            ),
            # The fulfilment queue: open redemptions, oldest first.
            models.Index(fields=["status", "created_at", "id"], name="redemption_queue"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="redemption_updated"),
            # The default view of that queue (both open statuses, oldest first): the index
            # above cannot give one order across two statuses, so PostgreSQL would read
            # and sort every open redemption.
            # The statuses are OPEN_STATUSES (not reachable from Meta).
            models.Index(
                fields=["created_at", "id"],
                name="redemption_open_queue",
                condition=models.Q(status__in=["requested", "approved"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.reward_id} for {self.advocate_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def provider_order_or_none(self) -> ProviderOrder | None:
        """Its provider order, if a provider was asked (select_related keeps it one query)."""
        try:
            return self.provider_order
        except ProviderOrder.DoesNotExist:
            return None

    @property
    def manual_actions(self) -> bool:
        """Open, and no provider is ordering or delivering it (fulfil or cancel by hand)."""
        order = self.provider_order_or_none
        return self.is_open and (order is None or not order.in_flight)


class ProviderOrder(models.Model):
    """A redemption ordered through a fulfilment provider (Tremendous), one per redemption.

    ``state`` is the row's state machine, moved only by conditional updates
    (rewards.services.fulfilment):

    - ``ordering``: to be ordered, or an attempt is under way (``lease_until``) or ended
      in doubt (``in_doubt``: a timeout or a 5xx, so the order may exist at the provider;
      the next attempt looks it up by ``external_id`` before ordering again);
    - ``ordered``: the provider accepted the order and is delivering it (its email);
    - ``delivered``: the provider confirmed delivery; the redemption is fulfilled;
    - ``failed``: refused or failed (``failure_reason``); the redemption is back in the
      manual queue, still approved, for a manager to fulfil by hand or cancel.

    ``external_id`` (``vouch-redemption-<id>``) is the provider's idempotency key: a
    second order with it returns the first one. No reward link or code is stored: the
    provider emails it to the advocate.
    """

    class State(models.TextChoices):
        ORDERING = "ordering", _("Ordering")
        ORDERED = "ordered", _("Ordered, being delivered")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed: back to manual")

    IN_FLIGHT = (State.ORDERING, State.ORDERED)
    # An order in flight inside a sentence ("… through Tremendous (ordering)").
    IN_FLIGHT_IN_SENTENCE = {
        State.ORDERING: pgettext_lazy("provider order state in a sentence", "ordering"),
        State.ORDERED: pgettext_lazy(
            "provider order state in a sentence", "ordered, being delivered"
        ),
    }

    redemption = models.OneToOneField(
        Redemption, on_delete=models.PROTECT, related_name="provider_order"
    )
    provider = models.CharField(max_length=20)
    external_id = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ORDERING)
    in_doubt = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    order_id = models.CharField(max_length=64, blank=True)
    reward_id = models.CharField(max_length=64, blank=True)
    order_status = models.CharField(max_length=40, blank=True)
    delivery_status = models.CharField(max_length=20, blank=True)
    delivery_method = models.CharField(max_length=10, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ordered_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="provider_order_external_id_unique"
            ),
        ]
        indexes = [
            # The periodic poll: orders still in flight, stalest first.
            models.Index(fields=["state", "updated_at"], name="provider_order_in_flight"),
            # Webhooks name the provider's reward or order.
            models.Index(fields=["provider", "reward_id"], name="provider_order_reward"),
            models.Index(fields=["provider", "order_id"], name="provider_order_order"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.external_id} ({self.state})"

    @property
    def in_flight(self) -> bool:
        return self.state in self.IN_FLIGHT


class ProviderBalance(models.Model):
    """The provider's funding balance as last fetched (beat), for the console's warning."""

    provider = models.CharField(max_length=20, unique=True)
    available_cents = models.BigIntegerField(null=True, blank=True)
    pending_cents = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    error = models.CharField(max_length=255, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.provider}: {self.available_cents}"
