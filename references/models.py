"""Reference calls: a rep's request, the shortlist shown to the prospect, the ask to an
advocate, the call and its feedback, and the matching weights managers tune.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from advocates.models import Advocate, Company, Person, Product, Tag
from core.models import UpdatedAtOnSave


class ScoringWeights(models.Model):
    """Points each matching criterion adds to an advocate's score."""

    SCORING_FIELDS = (
        "industry",
        "seniority",
        "products",
        "company_size",
        "topics",
        "direct_connection",
        "second_degree",
        "accept_rate",
    )

    industry = models.PositiveSmallIntegerField(default=30)
    seniority = models.PositiveSmallIntegerField("similar seniority / title", default=15)
    products = models.PositiveSmallIntegerField("per shared product", default=12)
    company_size = models.PositiveSmallIntegerField(default=10)
    topics = models.PositiveSmallIntegerField("per experience tag answering a topic", default=10)
    interests = models.PositiveSmallIntegerField(
        "per experience tag answering a prospect's interest", default=8
    )
    direct_connection = models.PositiveSmallIntegerField("knows the prospect", default=40)
    second_degree = models.PositiveSmallIntegerField("2nd-degree path", default=20)
    accept_rate = models.PositiveSmallIntegerField("recent willingness (× accept rate)", default=15)

    class Meta:
        abstract = True

    @property
    def label(self) -> str:
        return gettext("the program's weights")


class MatchingWeights(ScoringWeights):
    """The program's set of scoring weights (row id 1) and the reference settings, edited
    by managers; an industry may have its own scoring set (``IndustryWeights``)."""

    shortlist_size = models.PositiveSmallIntegerField(
        "advocates shown to the prospect",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    answer_hours = models.PositiveSmallIntegerField(
        "hours an advocate has to answer",
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    link_days = models.PositiveSmallIntegerField(
        "days the prospect's link works",
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    dispute_days = models.PositiveSmallIntegerField(
        "days to dispute a call the rep confirmed",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="A call booked in Vouch counts when the advocate and the prospect both "
        "confirm it, or when the rep does and nobody says otherwise within these days.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "matching weights"

    def __str__(self) -> str:
        return "Matching weights"

    @classmethod
    def current(cls) -> MatchingWeights:
        return cls.objects.get_or_create(pk=1)[0]


class IndustryWeights(ScoringWeights):
    """Scoring weights for requests whose prospect is in one industry (the seed: what
    counts varies with the industry and how complex its buying is)."""

    for_industry = models.CharField("industry", max_length=100)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["for_industry", "id"]
        verbose_name_plural = "industry weights"
        constraints = [
            # Matching compares industries case-insensitively, so must uniqueness.
            models.UniqueConstraint(
                Lower("for_industry"),
                name="industry_weights_once",
                violation_error_message=_("This industry already has its own weights."),
            ),
        ]

    def __str__(self) -> str:
        return f"Matching weights for {self.for_industry}"

    @property
    def label(self) -> str:
        return gettext("the %(industry)s weights") % {"industry": self.for_industry}


class ReferencePause(models.Model):
    """An advocate's own break from reference calls (until a date)."""

    advocate = models.OneToOneField(
        Advocate, on_delete=models.CASCADE, related_name="reference_pause"
    )
    until = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.advocate} paused until {self.until}"


class ReferenceRequest(UpdatedAtOnSave):
    class Stage(models.TextChoices):
        DISCOVERY = "discovery", _("Discovery")
        EVALUATION = "evaluation", _("Evaluation")
        PROPOSAL = "proposal", _("Proposal")
        NEGOTIATION = "negotiation", _("Negotiation")

    class CallType(models.TextChoices):
        PHONE = "phone", _("Phone call")
        VIDEO = "video", _("Video call")
        EMAIL = "email", _("Email exchange")
        SITE_VISIT = "site_visit", _("Site visit")

    class Status(models.TextChoices):
        OPEN = "open", _("Matching")  # the rep reviews the matches
        WITH_PROSPECT = "with_prospect", _("Waiting for the prospect")
        ASKED = "asked", _("Waiting for the advocate")
        NEEDS_REP = "needs_rep", _("Needs you")  # no choice left, or more options asked for
        SCHEDULED = "scheduled", _("Call agreed")
        COMPLETED = "completed", _("Call done")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        OPEN = "", pgettext_lazy("deal outcome", "Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    OPEN_STATUSES = (
        Status.OPEN,
        Status.WITH_PROSPECT,
        Status.ASKED,
        Status.NEEDS_REP,
        Status.SCHEDULED,
    )
    # Requests a reference drive may offer: nobody asked or agreed, the prospect not choosing.
    DRIVE_STATUSES = (Status.OPEN, Status.NEEDS_REP)

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reference_requests"
    )
    prospect_name = models.CharField(max_length=200)
    prospect_email = models.EmailField()
    prospect_company = models.CharField(max_length=200)
    prospect_title = models.CharField(max_length=200, blank=True)
    prospect_seniority = models.CharField(
        max_length=20, choices=Advocate.Seniority.choices, blank=True
    )
    prospect_industry = models.CharField(max_length=100, blank=True)
    prospect_company_size = models.CharField(
        max_length=10, choices=Company.SizeBand.choices, blank=True
    )
    prospect_person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opportunity_name = models.CharField(max_length=200)
    opportunity_amount = models.DecimalField(max_digits=12, decimal_places=2)
    opportunity_stage = models.CharField(max_length=20, choices=Stage.choices)
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    topics = models.ManyToManyField(Tag, blank=True, related_name="+")
    call_type = models.CharField(max_length=12, choices=CallType.choices)
    needed_by = models.DateField()
    notes = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    # The prospect's link carries this nonce: sending the link again rotates it.
    link_nonce = models.CharField(max_length=32, blank=True)
    link_sent_at = models.DateTimeField(null=True, blank=True)
    link_send_count = models.PositiveIntegerField(default=0)
    link_delivered_send = models.PositiveIntegerField(default=0)
    more_options_asked_at = models.DateTimeField(null=True, blank=True)
    # "Needs you" notices to the rep: asked for vs delivered, so a retry mails once.
    rep_notice_count = models.PositiveIntegerField(default=0)
    rep_notice_delivered = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    matched_at = models.DateTimeField(null=True, blank=True)  # an advocate first asked
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    prospect_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    prospect_feedback = models.TextField(blank=True, max_length=2000)
    prospect_feedback_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=5, choices=Outcome.choices, blank=True, default="")
    won_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    days_to_close = models.PositiveIntegerField(null=True, blank=True)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # on every save() (UpdatedAtOnSave), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["rep", "-created_at"], name="refreq_rep_recent"),
            models.Index(fields=["status"], name="refreq_status"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="refreq_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opportunity_amount__gte=0), name="refreq_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(won_amount__isnull=True) | models.Q(won_amount__gte=0),
                name="refreq_won_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prospect_name} ({self.prospect_company})"

    @property
    def prospect_first_name(self) -> str:
        return self.prospect_name.split()[0] if self.prospect_name.strip() else ""

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def status_badge(self) -> str:
        badges: dict[str, str] = {
            self.Status.COMPLETED: "ok",
            self.Status.SCHEDULED: "ok",
            self.Status.NEEDS_REP: "warn",
            self.Status.NO_SHOW: "bad",
            self.Status.CANCELLED: "bad",
        }
        return badges.get(self.status, "brand")


class Candidate(models.Model):
    """One advocate on the shortlist the prospect sees, with the reasons frozen then."""

    request = models.ForeignKey(
        ReferenceRequest, on_delete=models.CASCADE, related_name="candidates"
    )
    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.PositiveIntegerField()
    reasons = models.JSONField(default=list)  # for the rep
    public_reasons = models.JSONField(default=list)  # for the prospect
    chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "advocate"], name="candidate_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.advocate} for {self.request}"


class Ask(models.Model):
    """A request put to one advocate; when accepted, it is the call.

    An ask *reserves* the advocate: pending and accepted asks count toward the cap
    (calls in flight), completed ones for 90 days from the call.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("No answer in time")
        COMPLETED = "completed", _("Call done")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    IN_FLIGHT = (Status.PENDING, Status.ACCEPTED)
    LIVE = (Status.PENDING, Status.ACCEPTED, Status.COMPLETED, Status.NO_SHOW)

    request = models.ForeignKey(ReferenceRequest, on_delete=models.CASCADE, related_name="asks")
    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="reference_asks")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    asked_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    advocate_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    advocate_feedback = models.TextField(blank=True, max_length=2000)
    advocate_feedback_at = models.DateTimeField(null=True, blank=True)
    # Set by the email task once each mail went out, so a retried task sends nothing twice.
    ask_emailed_at = models.DateTimeField(null=True, blank=True)
    intro_emailed_at = models.DateTimeField(null=True, blank=True)
    feedback_emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-id"]
        indexes = [
            # The cap counts an advocate's asks by status and time.
            models.Index(fields=["advocate", "status", "completed_at"], name="ask_cap"),
            # The timeout sweep reads pending asks by deadline.
            models.Index(
                fields=["deadline"],
                condition=models.Q(status="pending"),
                name="ask_pending_deadline",
            ),
        ]
        constraints = [
            # Never two open questions to one advocate, whoever asks.
            models.UniqueConstraint(
                fields=["advocate"],
                condition=models.Q(status="pending"),
                name="ask_one_pending_per_advocate",
            ),
            # A request has at most one advocate asked or agreed at a time.
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(status__in=["pending", "accepted"]),
                name="ask_one_in_flight_per_request",
            ),
            models.UniqueConstraint(fields=["request", "advocate"], name="ask_once_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate} for {self.request}"


class ReferenceDrive(models.Model):
    """Open reference requests offered to advocates, each of whom picks the prospect they
    want to talk to (seed 000: advocates choose the recommended prospect or alternatives).
    Picking asks that advocate for that request, already accepted."""

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requests = models.ManyToManyField(ReferenceRequest, related_name="drives")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DrivePass(models.Model):
    """An advocate passed on a request a drive suggested: it is not suggested to them again."""

    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(ReferenceRequest, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["advocate", "request"], name="drive_pass_once"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate} passed on {self.request}"


class Meeting(models.Model):
    """The agreed call's time and invitation: the slots the advocate offered (or their
    booking page), the one the prospect picked, the video link, reminders, attendance.

    ``uid`` names the meeting in every calendar for its whole life; each change that is
    mailed as an .ics raises ``sequence``, so calendars apply updates in order.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Times offered")
        BOOKING = "booking", _("Booking page shared")
        SCHEDULED = "scheduled", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        CLOSED = "closed", _("Recorded by the rep")

    class Attendance(models.TextChoices):
        OPEN = "", _("Not settled")
        COUNTED = "counted", _("Call held")
        NOT_HELD = "not_held", _("Call did not happen")
        DISPUTED = "disputed", _("Disputed")

    class Video(models.TextChoices):
        LINK = "link", _("A link I paste")
        ZOOM = "zoom", _("Create a Zoom meeting")

    LIVE = (Status.PROPOSED, Status.BOOKING, Status.SCHEDULED)

    ask = models.ForeignKey(Ask, on_delete=models.CASCADE, related_name="meetings")
    uid = models.CharField(max_length=80, unique=True)
    sequence = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    time_zone = models.CharField("advocate's timezone", max_length=64)
    prospect_time_zone = models.CharField(max_length=64, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(15), MaxValueValidator(180)]
    )
    booking_url = models.URLField(max_length=500, blank=True)
    video = models.CharField(max_length=5, choices=Video.choices, default=Video.LINK)
    video_url = models.URLField(max_length=500, blank=True)
    zoom_meeting_id = models.CharField(max_length=40, blank=True)
    zoom_error = models.CharField(max_length=300, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    # Set by the email tasks once each mail went out, so a retried task mails once: the
    # offer, the last invitation sequence delivered, the "did it happen?" question.
    offer_mailed_at = models.DateTimeField(null=True, blank=True)
    mailed_sequence = models.IntegerField(default=-1)
    attendance_mailed_at = models.DateTimeField(null=True, blank=True)
    reminder_24h_at = models.DateTimeField(null=True, blank=True)
    reminder_1h_at = models.DateTimeField(null=True, blank=True)
    attendance_asked_at = models.DateTimeField(null=True, blank=True)
    advocate_attended = models.BooleanField(null=True, blank=True)
    advocate_answered_at = models.DateTimeField(null=True, blank=True)
    prospect_attended = models.BooleanField(null=True, blank=True)
    prospect_answered_at = models.DateTimeField(null=True, blank=True)
    rep_attended = models.BooleanField(null=True, blank=True)
    rep_answered_at = models.DateTimeField(null=True, blank=True)
    attendance = models.CharField(
        max_length=10, choices=Attendance.choices, blank=True, default=Attendance.OPEN
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_by = models.CharField(max_length=10, blank=True)  # advocate, prospect or rep
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The reminder and attendance sweeps read booked meetings by start.
            models.Index(
                fields=["starts_at"],
                condition=models.Q(status="scheduled"),
                name="meeting_booked_start",
            ),
            models.Index(
                fields=["settled_at"],
                condition=models.Q(attendance="disputed"),
                name="meeting_disputed",
            ),
        ]
        constraints = [
            # One live meeting per call: a cancelled one may be followed by a new offer.
            models.UniqueConstraint(
                fields=["ask"],
                condition=models.Q(status__in=["proposed", "booking", "scheduled"]),
                name="meeting_one_live_per_ask",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="scheduled") | models.Q(starts_at__isnull=False),
                name="meeting_booked_has_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Meeting {self.uid} ({self.get_status_display()})"

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None:
            return None
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def attendance_due(self) -> bool:
        """Whether "did the call happen?" can be answered now (it started, not settled)."""
        return (
            self.status == self.Status.SCHEDULED
            and self.starts_at is not None
            and self.starts_at <= timezone.now()
            and self.attendance == self.Attendance.OPEN
        )


class MeetingSlot(models.Model):
    """One time the advocate offered, stored in UTC."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "starts_at"], name="meeting_slot_once"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} UTC"
