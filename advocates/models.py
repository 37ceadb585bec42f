from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("Users sign in with their email address: it is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. Email is the login; there is no username."""

    username = None  # type: ignore[assignment]  # the stubs cannot express a removed field
    email = models.EmailField("email address", unique=True)
    # One of settings.LANGUAGES, chosen by the person (footer or profile); blank until
    # their first signed-in visit saves the one their browser asked for (core/i18n.py).
    language = models.CharField(max_length=16, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]  # a subclass

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        # The people directory sorts by name: with this index PostgreSQL walks users in
        # name order for one page instead of sorting every advocate.
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="user_name")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Company(models.Model):
    class SizeBand(models.TextChoices):
        SMALL = "1-50", gettext_lazy("1–50 employees")
        MEDIUM = "51-500", gettext_lazy("51–500 employees")
        LARGE = "501-5000", gettext_lazy("501–5,000 employees")
        ENTERPRISE = "5000+", gettext_lazy("5,000+ employees")

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="e.g. acme.com")
    industry = models.CharField(max_length=100, blank=True)
    size_band = models.CharField(max_length=10, choices=SizeBand.choices, blank=True)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # auto_now on save(), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]
        indexes = [
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="company_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"), condition=~models.Q(domain=""), name="company_domain_ci_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product of ours that advocates use (matched against a prospect's interests)."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """An experience tag, e.g. "fast onboarding": what an advocate can speak to."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Advocate(models.Model):
    """A customer contact in the VIP community.

    ``balance`` and ``lifetime_points`` are kept beside the points ledger by the
    ledger's services only (rewards.services); the database refuses a negative balance.
    """

    class Status(models.TextChoices):
        INVITED = "invited", gettext_lazy("Invited")
        ACTIVE = "active", gettext_lazy("Active")
        PAUSED = "paused", gettext_lazy("Paused")
        LEFT = "left", gettext_lazy("Left")

    class Seniority(models.TextChoices):
        INDIVIDUAL = "individual", gettext_lazy("Individual contributor")
        MANAGER = "manager", gettext_lazy("Manager")
        DIRECTOR = "director", gettext_lazy("Director")
        VP = "vp", gettext_lazy("VP")
        C_LEVEL = "c_level", gettext_lazy("C-level")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advocate"
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="advocates", null=True, blank=True
    )
    title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=20, choices=Seniority.choices, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    products = models.ManyToManyField(Product, blank=True, related_name="advocates")
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="advocates", verbose_name="experience tags"
    )
    bio = models.TextField(blank=True, max_length=2000)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    avatar_thumbnail = models.ImageField(upload_to="avatars/thumbs/", blank=True)
    linkedin_url = models.URLField(blank=True)
    owner_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_advocates",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    joined_at = models.DateTimeField(null=True, blank=True)
    reference_opt_in = models.BooleanField("available for reference calls", default=False)
    reference_max_calls_per_90d = models.PositiveSmallIntegerField(
        "reference calls per 90 days", default=2
    )
    leaderboard_opt_out = models.BooleanField("hide me from public leaderboards", default=False)
    # An IANA name (Europe/Berlin); blank means the program's TIME_ZONE. Times the
    # advocate offers for reference calls are read in it.
    time_zone = models.CharField("timezone", max_length=64, blank=True)
    balance = models.IntegerField(default=0, editable=False)
    lifetime_points = models.IntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Kept by the services that record activity (campaigns.ams), read by segments,
    # the console and the profile: the last time the advocate did something, their
    # latest NPS answer, and their Advocate Mobilization Score (0–100) with its parts.
    last_active_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    nps_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    ams = models.PositiveSmallIntegerField(
        "AMS", default=0, db_default=0, editable=False, db_index=True
    )
    ams_private = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    ams_public = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    # What the segment filters "has referred" and "has given a reference call" read, so
    # a count over every advocate needs no subquery per row into half a million
    # referrals. Each is recounted from its rows, under this row's lock, by the
    # services that write them (referrals.services.summary, references.services.summary).
    referral_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reference_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Moved by every change the API shows (its updated_since filter and cursor read it):
    # auto_now on save(), and set by hand by the services' .update() calls.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="advocate_balance_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(lifetime_points__gte=0), name="advocate_lifetime_non_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "joined_at"], name="advocate_status_joined"),
            # The API lists changes in this order (api/, cursor pagination, updated_since).
            models.Index(fields=["updated_at", "id"], name="advocate_updated"),
            # The all-time leaderboard reads advocates by lifetime points, highest first.
            models.Index(fields=["-lifetime_points", "id"], name="advocate_lifetime_rank"),
            # "My rank" counts the visible advocates above me; indexing only them keeps
            # that count to the visible rows' pages.
            models.Index(
                fields=["-lifetime_points", "id"],
                condition=models.Q(status="active", leaderboard_opt_out=False),
                name="advocate_visible_rank",
            ),
            # Reference matching scores every advocate who takes calls (about a third):
            # read from this index alone instead of the table.
            # Key columns, not INCLUDE, so SQLite builds it too.
            models.Index(
                fields=["id", "industry", "seniority", "company", "reference_max_calls_per_90d"],
                condition=models.Q(status="active", reference_opt_in=True),
                name="advocate_askable",
            ),
            # The industry filters (directory, segments) list the few distinct values by
            # skipping through this index (selectors.industries) instead of a DISTINCT
            # over every advocate.
            models.Index(fields=["industry"], name="advocate_industry"),
            # A segment's count (campaigns.segments) reads this index alone: every column
            # a filter compares, for the active advocates only, industry and seniority
            # first as the editor's most used criteria. Key columns, not INCLUDE, so
            # SQLite builds it too.
            models.Index(
                fields=[
                    "industry",
                    "seniority",
                    "lifetime_points",
                    "referral_count",
                    "reference_count",
                    "ams",
                    "nps_score",
                    "last_active_at",
                    "company",
                    "id",
                ],
                condition=models.Q(status="active"),
                name="advocate_segment",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.email


class MatchingProfile(models.Model):
    """What reference matching's prescore reads of one advocate who takes reference calls
    (active, opted in, a cap above zero; nobody else has a row), in one narrow row.

    Ranking scores every such advocate: from here that is one scan of these rows, where
    from the advocate, company and link tables it was an aggregate over every product
    and tag link. Kept by the writes of what it holds (``advocates.services.matching_profiles``);
    recomputed from those rows, never patched. What changes with time or per request
    (asks, the 90-day cap window, pauses) is read live by the ranking, not kept here.
    """

    advocate = models.OneToOneField(
        Advocate, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Lower-cased in SQL, as matching compares it: the advocate's own, else their company's.
    industry = models.TextField(blank=True)
    seniority = models.CharField(max_length=20, blank=True)
    size_band = models.CharField(max_length=10, blank=True)  # their company's
    calls_cap = models.PositiveSmallIntegerField()  # reference_max_calls_per_90d
    # The advocate's product (tag) ids as " 3 5 ", in any order: a shared one is a
    # LIKE '% 3 %' on the row itself, on PostgreSQL and SQLite alike.
    products = models.TextField(blank=True)
    tags = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Matching profile of advocate {self.advocate_id}"


class Invitation(models.Model):
    """An invitation to join the community, sent as a signed, expiring, one-use link.

    The link's token carries the invitation id, its email and ``nonce``; accepting sets
    ``accepted_at`` with a conditional update, so a link works once however often it
    is clicked. Re-inviting rotates the nonce, so only the newest link works.
    """

    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    # send_count: sends asked for; delivered_send: the last send actually delivered.
    # The email task compares them, so a retried task never mails the same send twice.
    send_count = models.PositiveIntegerField(default=0)
    delivered_send = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address: inviting again re-sends it.
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Notification(models.Model):
    """A short message in the advocate's hub (a badge earned, a level reached, ...)."""

    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=255)
    url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["advocate", "-created_at"], name="notification_recent")]

    def __str__(self) -> str:
        return self.message


# --- The relationship graph -------------------------------------------------------------


class Person(models.Model):
    """Anyone in the relationship graph: an advocate, an employee, a prospect, a contact.

    People are merged by email (case-insensitive), else by LinkedIn URL; both are unique
    when present, so an import run twice, or by two owners, finds the same person.
    """

    class Kind(models.TextChoices):
        ADVOCATE = "advocate", gettext_lazy("Advocate")
        EMPLOYEE = "employee", gettext_lazy("Colleague")
        PROSPECT = "prospect", gettext_lazy("Prospect")
        CONTACT = "contact", gettext_lazy("Contact")

    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    linkedin_url = models.URLField(max_length=300, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CONTACT)
    advocate = models.OneToOneField(
        Advocate, on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "people"
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="person_email_ci_unique"
            ),
            models.UniqueConstraint(
                "linkedin_url",
                condition=~models.Q(linkedin_url=""),
                name="person_linkedin_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"person {self.pk}"


class Relationship(models.Model):
    """``from_person`` knows ``to_person`` (read in both directions), with its source.

    One row per pair and direction as recorded; readers look at both endpoints, each
    with its own index, so a person's neighbours are two index scans.
    """

    class Source(models.TextChoices):
        LINKEDIN = "linkedin", gettext_lazy("LinkedIn import")
        MANUAL = "manual", gettext_lazy("Added by hand")
        CRM = "crm", gettext_lazy("CRM")

    from_person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    to_person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    note = models.CharField(max_length=200, blank=True)
    connected_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_person", "to_person"], name="relationship_pair"),
            models.CheckConstraint(
                condition=~models.Q(from_person=models.F("to_person")),
                name="relationship_not_self",
            ),
        ]
        # The unique pair indexes from_person first; to_person has its own FK index.

    def __str__(self) -> str:
        return f"{self.from_person_id} knows {self.to_person_id}"


class PersonInterest(models.Model):
    """Something a person in the graph cares about ("data privacy", "ROI", "migration"):
    typed by a rep or manager, or imported with their connections. Matching scores an
    advocate whose experience tag has the same name (``references.matching``)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="interests")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = [Lower("name"), "id"]
        constraints = [
            models.UniqueConstraint("person", Lower("name"), name="person_interest_once"),
        ]
        # Graph search filters people by interest name, case-insensitively.
        indexes = [models.Index(Lower("name"), name="person_interest_name")]

    def __str__(self) -> str:
        return self.name


class JobChange(models.Model):
    """A person seen at a new company: a re-imported connections file showed the same
    person (email, else LinkedIn URL) at another company than the graph had. Recorded
    once per move: the person's company is moved in the same conditional update."""

    class Source(models.TextChoices):
        LINKEDIN = "linkedin", gettext_lazy("LinkedIn import")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="job_changes")
    from_company = models.CharField(max_length=200)
    to_company = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LINKEDIN)
    detected_at = models.DateTimeField(default=timezone.now, editable=False)
    detected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.from_company} → {self.to_company}"


# --- Groups -------------------------------------------------------------------------------


class CommunityGroup(models.Model):
    """A community group advocates belong to (a user group, a region, a beta cohort).

    Not ``django.contrib.auth`` groups, which hold staff roles. Membership is a
    ``GroupMembership`` row; its status says whether it is a request waiting for a
    manager or a membership. Invite links carry ``invite_nonce``: rotating it (a new
    random value) stops every link handed out before.
    """

    class Kind(models.TextChoices):
        OPEN = "open", gettext_lazy("Open: any advocate can join")
        REQUEST = "request", gettext_lazy("Request to join: a manager approves")
        INVITE = "invite", gettext_lazy("Invite only: join with the invite link")

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OPEN)
    invite_nonce = models.CharField(max_length=32, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="group_name_ci_unique",
                violation_error_message="There is already a group with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class GroupMembership(models.Model):
    """An advocate in a group, or asking to be (a request group's pending request)."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Asked to join")
        MEMBER = "member", gettext_lazy("Member")

    group = models.ForeignKey(CommunityGroup, on_delete=models.CASCADE, related_name="memberships")
    advocate = models.ForeignKey(
        Advocate, on_delete=models.CASCADE, related_name="group_memberships"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MEMBER)
    requested_at = models.DateTimeField(default=timezone.now)
    joined_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # One row per advocate and group: joining twice (a double click, the invite
            # link opened again) finds the row instead of adding one.
            models.UniqueConstraint(fields=["group", "advocate"], name="group_membership_unique"),
        ]
        indexes = [
            # "Is this advocate in the group?" (challenge audiences, group-only rewards,
            # segments) and "my groups" start from the advocate.
            models.Index(fields=["advocate", "status", "group"], name="group_membership_advocate"),
            # The manager's request queue and a group's member list.
            models.Index(fields=["group", "status", "joined_at"], name="group_membership_group"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} in {self.group_id} ({self.status})"
