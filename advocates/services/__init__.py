"""Writes for the advocates app: invitations, joining, profiles."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from advocates.forms import InvitationForm
from advocates.links import INVITATION_SALT
from advocates.models import Advocate, Company, Invitation, User
from advocates.services.matching_profiles import matching_profiles_refresh
from advocates.tasks import invitation_send
from core import events
from core.audit import audit_record
from core.cache import ADVOCATES_GENERATION_KEY, CONSOLE_FIGURES_VERSION_KEY, cache_version_bump
from core.csv import CsvFileError, csv_read
from core.i18n import save_language
from core.images import process_avatar
from core.outbox import activity_after_commit, enqueue_after_commit
from core.roles import REPS_GROUP

# rewards.tasks.welcome_points_award
WELCOME_POINTS_TASK = "rewards.tasks.welcome_points_award"
CSV_COLUMNS = ("email", "first_name", "last_name", "company", "title")
# Marked here, translated where raised.
INVALID_LINK = gettext_noop(
    "This invitation link is not valid. Open the whole link from the email, "
    "or ask the person who invited you for a new one."
)


class InvitationError(Exception):
    """A refused invitation action; the message is shown to the user as it is."""


class InvitationLinkInvalid(InvitationError):
    pass


class InvitationLinkExpired(InvitationError):
    pass


class InvitationLinkUsed(InvitationError):
    pass


# --- Inviting -------------------------------------------------------------------------


def _queue_send(invitation: Invitation) -> None:
    enqueue_after_commit(invitation_send, invitation.pk, invitation.send_count)


def _is_member(email: str) -> bool:
    return Advocate.objects.filter(
        user__email__iexact=email, status__in=[Advocate.Status.ACTIVE, Advocate.Status.PAUSED]
    ).exists()


def _members_among(emails: set[str]) -> set[str]:
    """The addresses of ``emails`` that belong to members already, in one query."""
    return set(
        Advocate.objects.annotate(email=Lower("user__email"))
        .filter(
            email__in=emails,
            status__in=[Advocate.Status.ACTIVE, Advocate.Status.PAUSED],
        )
        .values_list("email", flat=True)
    )


def invitation_create(
    *,
    email: str,
    invited_by: User,
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    title: str = "",
    send: bool = True,
) -> Invitation:
    """Invite one contact, or re-send the open invitation for that address.

    Re-sending rotates the link (the older one stops working) and restarts its expiry.
    ``send=False`` creates the invitation without its own email: a program-invitation
    campaign carries the link in the campaign's email instead (campaigns.kinds).
    """
    email = email.strip().lower()
    validate_email(email)
    if _is_member(email):
        raise InvitationError(
            _("%(email)s is already a member of the community.") % {"email": email}
        )
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(email__iexact=email, accepted_at__isnull=True)
            .first()
        )
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        email=email,
                        first_name=first_name.strip(),
                        last_name=last_name.strip(),
                        company_name=company_name.strip(),
                        title=title.strip(),
                        invited_by=invited_by,
                        nonce=secrets.token_hex(8),
                        send_count=1,
                    )
            except IntegrityError:
                # Invited by someone else this very moment: theirs is the invitation.
                raise InvitationError(
                    _("%(email)s was invited a moment ago.") % {"email": email}
                ) from None
        else:
            invitation.nonce = secrets.token_hex(8)
            invitation.send_count += 1
            invitation.created_at = timezone.now()
            for name, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("company_name", company_name),
                ("title", title),
            ):
                if value.strip():
                    setattr(invitation, name, value.strip())
            invitation.save()
        if send:
            _queue_send(invitation)
        # A new invitation (or a re-sent one, whose expiry restarts) is waiting to join.
        cache_version_bump(CONSOLE_FIGURES_VERSION_KEY)
        audit_record(
            actor=invited_by,
            action="invitation.send" if invitation.send_count == 1 else "invitation.resend",
            target=invitation,
            detail={"email": email, "emailed": send},
        )
    return invitation


@dataclass
class ImportResult:
    invited: list[Invitation] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def _csv_row_problem(row: dict[str, str]) -> str | None:
    """Why a CSV row cannot be invited (None when it can), with the form's own rules."""
    form = InvitationForm(row)
    if form.is_valid():
        return None
    field, errors = next(iter(form.errors.items()))
    if field == "email":
        return _("“%(email)s” is not a valid email address.") % {
            "email": row["email"] or _("(empty)")
        }
    return _("%(column)s: %(error)s") % {"column": field, "error": errors[0]}


def invitations_import_csv(*, file: UploadedFile, invited_by: User) -> ImportResult:
    """Invite every valid row of a CSV; list each bad row with its line and reason.

    Rows are checked before anything is written, then the valid ones are invited in
    one transaction: a failure part-way creates nothing, and a bad row never blocks
    the good ones.
    """
    result = ImportResult()
    rows: list[tuple[int, dict[str, str]]] = []
    seen: set[str] = set()
    try:
        for csv_row in csv_read(file, columns=CSV_COLUMNS):
            row = {column: csv_row.cells.get(column, "") for column in CSV_COLUMNS}
            row["email"] = row["email"].lower()
            problem = _csv_row_problem(row)
            if problem is None and row["email"] in seen:
                problem = _("%(email)s appears more than once in the file.") % {
                    "email": row["email"]
                }
            if problem is not None:
                result.errors.append((csv_row.line, problem))
                continue
            seen.add(row["email"])
            rows.append((csv_row.line, row))
    except CsvFileError as error:
        result.errors = [(error.line, str(error))]
        return result
    if not rows and not result.errors:
        result.errors.append((0, _("The file has no rows to invite.")))
        return result

    members = _members_among(seen)
    with transaction.atomic():
        for line, row in rows:
            if row["email"] in members:
                result.errors.append(
                    (
                        line,
                        _("%(email)s is already a member of the community.")
                        % {"email": row["email"]},
                    )
                )
                continue
            try:
                invitation = invitation_create(
                    email=row["email"],
                    invited_by=invited_by,
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    company_name=row["company"],
                    title=row["title"],
                )
            except InvitationError as error:  # joined or invited this very moment
                result.errors.append((line, str(error)))
            else:
                result.invited.append(invitation)
    result.errors.sort()
    return result


# --- The link ---------------------------------------------------------------------------


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link stands for, or an InvitationError saying why not."""
    max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise InvitationLinkExpired(
            _("This invitation link has expired. Ask the person who invited you for a new one.")
        ) from None
    except signing.BadSignature:
        raise InvitationLinkInvalid(_(INVALID_LINK)) from None
    invitation = Invitation.objects.filter(pk=data.get("i")).first()
    if invitation is None or invitation.email != data.get("e"):
        raise InvitationLinkInvalid(_(INVALID_LINK))
    if invitation.accepted_at is not None:
        raise InvitationLinkUsed(_("This invitation has already been accepted. Sign in instead."))
    if invitation.nonce != data.get("n"):
        raise InvitationLinkUsed(
            _("A newer invitation was sent to this address: use the link in the latest email.")
        )
    return invitation


# --- Joining ----------------------------------------------------------------------------


def _company_for(name: str) -> Company | None:
    name = name.strip()
    if not name:
        return None
    company = Company.objects.filter(name__iexact=name).first()
    return company or Company.objects.create(name=name)


def invitation_accept(
    *, token: str, password: str | None = None, user: User | None = None
) -> Advocate:
    """Join the community through an invitation link.

    Either ``password`` (a new account is created for the invited address) or ``user``
    (already signed in, e.g. after LinkedIn, whose email must be the invited one).
    The invitation is claimed with a conditional update, so a link works once.
    """
    invitation = invitation_from_token(token)
    if user is not None and user.email.lower() != invitation.email.lower():
        raise InvitationError(
            _(
                "This invitation is for %(invited)s, but you are signed in as "
                "%(signed_in)s. Sign out first, then open the link again."
            )
            % {"invited": invitation.email, "signed_in": user.email}
        )
    if user is None:
        if password is None:
            raise InvitationError(_("Choose a password."))
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationError(
                _("An account for %(email)s already exists: sign in, then open the link again.")
                % {"email": invitation.email}
            )
        validate_password(password, User(email=invitation.email))

    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, nonce=invitation.nonce, accepted_at__isnull=True
        ).update(accepted_at=timezone.now())
        if not claimed:
            raise InvitationLinkUsed(
                _("This invitation has already been accepted. Sign in instead.")
            )
        if user is None:
            user = User.objects.create_user(
                email=invitation.email,
                password=password,
                first_name=invitation.first_name,
                last_name=invitation.last_name,
            )
        # Opening the emailed link proves the address.
        EmailAddress.objects.update_or_create(
            user=user,
            email=invitation.email,
            defaults={"verified": True, "primary": True},
        )
        inviter = invitation.invited_by
        owner = inviter if inviter and inviter.groups.filter(name=REPS_GROUP).exists() else None
        advocate, _created = Advocate.objects.get_or_create(user=user)
        advocate.status = Advocate.Status.ACTIVE
        advocate.joined_at = advocate.joined_at or timezone.now()
        advocate.title = advocate.title or invitation.title
        advocate.company = advocate.company or _company_for(invitation.company_name)
        advocate.owner_rep = advocate.owner_rep or owner
        # Named columns only: a returning advocate's balance belongs to the ledger.
        advocate.save(
            update_fields=["status", "joined_at", "title", "company", "owner_rep", "updated_at"]
        )
        Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
        # Active now, maybe with a company: a returning advocate may take calls again.
        matching_profiles_refresh(advocate_ids=[advocate.pk])
        events.emit(
            "advocate.joined",
            {
                "advocate": advocate.pk,
                "email": user.email,
                "company": advocate.company.name if advocate.company else "",
                "invitation": invitation.pk,
                "joined_at": advocate.joined_at.isoformat(),
            },
        )
        # One invited fewer, one enrolled more on the console home.
        cache_version_bump(CONSOLE_FIGURES_VERSION_KEY)
        if settings.WELCOME_POINTS > 0:
            # The ledger is a floor above: its task is named, and it runs right after
            # this commit (keyed "welcome:<advocate>", so a repeat awards nothing).
            enqueue_after_commit(WELCOME_POINTS_TASK, advocate.pk, invitation.pk)
    return advocate


# --- Profile ----------------------------------------------------------------------------


# The columns the advocate edits on their profile page. Saves name them explicitly:
# ``balance`` and ``lifetime_points`` belong to the ledger, and a copy of the advocate
# loaded before a concurrent award must never write its stale balance back.
PROFILE_FIELDS = (
    "title",
    "seniority",
    "industry",
    "bio",
    "linkedin_url",
    "reference_opt_in",
    "reference_max_calls_per_90d",
    "leaderboard_opt_out",
)
# What reference matching reads of the profile (advocates.models.MatchingProfile).
MATCHED_FIELDS = frozenset(
    ("seniority", "industry", "reference_opt_in", "reference_max_calls_per_90d", "products", "tags")
)


def advocate_profile_update(
    *, advocate: Advocate, data: Mapping[str, Any], avatar: UploadedFile | None = None
) -> None:
    """Save the advocate's profile and, when given, a new avatar: all or nothing.

    The image is decoded and re-encoded before anything is written (ValidationError
    when it is not a JPEG, PNG or WebP within the limits), so a bad image changes
    nothing; files written for a save that then fails are removed again.
    """
    images = process_avatar(avatar) if avatar is not None else None
    storage = advocate.avatar.storage
    written: list[str] = []
    try:
        with transaction.atomic():
            fields = [name for name in PROFILE_FIELDS if name in data]
            # From the table: a bound form has already changed the instance.
            industry_before = (
                Advocate.objects.filter(pk=advocate.pk).values_list("industry", flat=True).get()
            )
            for name in fields:
                setattr(advocate, name, data[name])
            if advocate.industry.strip().lower() != industry_before.strip().lower():
                # The AMS weighs activity by industry when a manager says so.
                activity_after_commit(advocate_id=advocate.pk)
            if images is not None:
                old = [f.name for f in (advocate.avatar, advocate.avatar_thumbnail) if f]
                full, thumb = images
                advocate.avatar.save(full.name, full, save=False)
                written.append(advocate.avatar.name)
                advocate.avatar_thumbnail.save(thumb.name, thumb, save=False)
                written.append(advocate.avatar_thumbnail.name)
                fields += ["avatar", "avatar_thumbnail"]
                transaction.on_commit(lambda: [storage.delete(name) for name in old])
            if fields:
                advocate.save(update_fields=[*fields, "updated_at"])
            language = data.get("language")
            if language and language != advocate.user.language:
                save_language(advocate.user, language)
            if "products" in data:
                advocate.products.set(data["products"])
            if "tags" in data:
                advocate.tags.set(data["tags"])
            if MATCHED_FIELDS.intersection(data):
                matching_profiles_refresh(advocate_ids=[advocate.pk])
            # Opting in, a higher cap or a new product can make them a better match: the
            # bands matching keeps are dropped once this commits.
            cache_version_bump(ADVOCATES_GENERATION_KEY)
    except Exception:
        for name in written:
            storage.delete(name)
        raise


# The session key under which a LinkedIn sign-up keeps the invitation it came from.
SESSION_INVITATION_TOKEN = "vouch_invitation_token"  # noqa: S105 - a key name, not a secret
