"""Writes for the campaign kinds: invitation contacts, reference-drive prospects and their
pairing, referral-drive sends from the hub, and trigger settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocates.models import Advocate, Product, Tag, User
from campaigns.kinds import EDITABLE, REFERRAL_DRIVE_ACTIVE
from campaigns.models import (
    Campaign,
    CampaignContact,
    CampaignMessage,
    CampaignProspect,
    CampaignReferral,
    Suppression,
    TriggerWatermark,
)
from campaigns.placeholders import every_language_problems
from core.csv import CsvFileError, csv_read
from core.i18n import site_language
from core.models import ProgramSettings
from references.matching import rank
from referrals.models import Referral, Stage
from referrals.services import referral_email_create

CONTACT_COLUMNS = ("email", "first_name", "last_name", "company", "title")
CONTACT_REQUIRED = ("email",)
PROSPECT_COLUMNS = ("name", "email", "company", "industry", "title", "product")
PROSPECT_REQUIRED = ("name", "email", "company")
Person = TypeVar("Person", CampaignContact, CampaignProspect)


class KindError(Exception):
    """A refused action; the message is shown to the manager as it is."""


@dataclass
class CsvImportResult:
    created: int = 0
    unchanged: int = 0  # already on the campaign
    skipped_members: int = 0  # already advocates or users
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _read_csv(
    file: UploadedFile,
    *,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    check: Callable[[dict[str, str]], str | None],
    result: CsvImportResult,
) -> list[tuple[int, dict[str, str]]]:
    """The valid rows (line, row) of an uploaded CSV; bad rows go to ``result.errors``.

    A file-level problem (not UTF-8, a required column missing, too many rows, not CSV)
    leaves that one message and no rows: nothing of such a file is imported.
    """
    rows: list[tuple[int, dict[str, str]]] = []
    seen: set[str] = set()
    try:
        for csv_row in csv_read(file, columns=required):
            row = {column: csv_row.cells.get(column, "") for column in columns}
            row["email"] = row["email"].lower()
            problem = None
            for column in required:
                if not row[column]:
                    problem = _("%(column)s is empty.") % {"column": column}
                    break
            if problem is None:
                try:
                    validate_email(row["email"])
                except ValidationError:
                    problem = _("“%(email)s” is not a valid email address.") % {
                        "email": row["email"]
                    }
            if problem is None:
                problem = check(row)
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
        result.errors[:] = [(error.line, str(error))]
        return []
    if not rows and not result.errors:
        result.errors.append((0, _("The file has no rows.")))
    return rows


def _lengths(limits: dict[str, int]) -> Callable[[dict[str, str]], str | None]:
    def check(row: dict[str, str]) -> str | None:
        for column, limit in limits.items():
            if len(row.get(column, "")) > limit:
                return _("%(column)s is longer than %(limit)s characters.") % {
                    "column": column,
                    "limit": limit,
                }
        return None

    return check


def _members_among(emails: set[str]) -> set[str]:
    """Addresses that already have an account (advocates, reps, managers), one query."""
    return set(
        User.objects.annotate(lower=Lower("email"))
        .filter(lower__in=emails)
        .values_list("lower", flat=True)
    )


def _editable(campaign: Campaign, kind: str) -> None:
    if campaign.kind != kind:
        raise KindError(_("This page is for another kind of campaign."))
    if campaign.status not in EDITABLE:
        raise KindError(_("The campaign has started: its recipients can no longer change."))


# --- Program invitations ----------------------------------------------------------------


def campaign_contacts_import(*, campaign: Campaign, file: UploadedFile) -> CsvImportResult:
    """Add a CSV's contacts to an invitation campaign.

    Bad rows are listed (line and reason) and skipped; people who already have an
    account are counted and skipped; the valid rows are added in one transaction, and
    contacts already on the campaign are left as they are (importing twice adds nothing).
    """
    _editable(campaign, Campaign.Kind.INVITATION)
    result = CsvImportResult()
    rows = _read_csv(
        file,
        columns=CONTACT_COLUMNS,
        required=CONTACT_REQUIRED,
        check=_lengths(
            {"email": 254, "first_name": 150, "last_name": 150, "company": 200, "title": 200}
        ),
        result=result,
    )
    return _add_people(
        campaign=campaign,
        rows=rows,
        model=CampaignContact,
        build=lambda row: CampaignContact(
            campaign=campaign,
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            company_name=row["company"],
            title=row["title"],
        ),
        result=result,
    )


def _add_people(
    *,
    campaign: Campaign,
    rows: list[tuple[int, dict[str, str]]],
    model: type[Person],
    build: Callable[[dict[str, str]], Person],
    result: CsvImportResult,
) -> CsvImportResult:
    """The valid rows of a contacts or prospects CSV, added in one transaction.

    People who already have an account are counted and skipped; addresses already on
    the campaign are left as they are (importing twice adds nothing).
    """
    if not rows:
        return _sorted(result)
    members = _members_among({row["email"] for _line, row in rows})
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        existing = set(model.objects.filter(campaign=campaign).values_list("email", flat=True))
        new: list[Person] = []
        for _line, row in rows:
            if row["email"] in members:
                result.skipped_members += 1
            elif row["email"] in existing:
                result.unchanged += 1
            else:
                new.append(build(row))
        model.objects.bulk_create(new, batch_size=1000)
        result.created = len(new)
    return _sorted(result)


def _sorted(result: CsvImportResult) -> CsvImportResult:
    result.errors.sort()
    return result


# --- Reference drives -------------------------------------------------------------------


def campaign_prospects_import(*, campaign: Campaign, file: UploadedFile) -> CsvImportResult:
    """Add a CRM export's prospects to a reference drive (same rules as contacts).

    A prospect whose address belongs to an account is skipped: advocates, reps and
    managers are not prospects.
    """
    _editable(campaign, Campaign.Kind.REFERENCE_DRIVE)
    result = CsvImportResult()
    rows = _read_csv(
        file,
        columns=PROSPECT_COLUMNS,
        required=PROSPECT_REQUIRED,
        check=_lengths(
            {"name": 200, "company": 200, "industry": 100, "title": 200, "product": 100}
        ),
        result=result,
    )
    return _add_people(
        campaign=campaign,
        rows=rows,
        model=CampaignProspect,
        build=lambda row: CampaignProspect(campaign=campaign, **row),
        result=result,
    )


@dataclass
class _ProspectProfile:
    """What references.matching.rank reads of a request, for a prospect with none saved."""

    prospect_name: str
    prospect_company: str
    prospect_industry: str
    prospect_title: str
    products: object
    topics: object
    prospect_seniority: str = ""
    prospect_company_size: str = ""
    prospect_person_id: int | None = None
    rep_id: int | None = None
    pk: int | None = None


def _unreachable_advocates(now: datetime) -> set[int]:
    """Advocates this drive's email would skip (unsubscribed, or at the weekly cap): the
    prospect must not be introduced to someone who will never hear of them."""
    cap = ProgramSettings.load().fatigue_cap_per_week
    capped = (
        CampaignMessage.objects.filter(
            advocate__isnull=False,
            status=CampaignMessage.Status.SENT,
            sent_at__gte=now - timedelta(days=7),
        )
        .order_by()
        .values("advocate_id")
        .annotate(n=Count("id"))
        .filter(n__gte=cap)
        .values_list("advocate_id", flat=True)
    )
    suppressed = Advocate.objects.annotate(lower=Lower("user__email")).filter(
        lower__in=Suppression.objects.values("email")
    )
    return set(capped) | set(suppressed.values_list("pk", flat=True))


@dataclass
class PairingResult:
    paired: int = 0
    unpaired: int = 0


def campaign_prospects_pair(*, campaign: Campaign, max_per_advocate: int = 1) -> PairingResult:
    """Pair each prospect with the best available advocate (references.matching).

    Matching keeps only advocates who may be asked (opted in, not paused, under their
    own reference cap); on top, one advocate takes at most ``max_per_advocate`` of this
    drive's prospects and never more than the calls they have left, and advocates the
    email would skip (unsubscribed, at the weekly campaign cap) are left out. Prospects are taken
    in import order, each getting its best remaining match; pairing again redoes it all.
    """
    _editable(campaign, Campaign.Kind.REFERENCE_DRIVE)
    if not 1 <= max_per_advocate <= 10:
        raise KindError(_("Choose between 1 and 10 prospects per advocate."))
    result = PairingResult()
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        prospects = list(CampaignProspect.objects.filter(campaign=campaign).order_by("id"))
        product_ids = {
            name.lower(): pk
            for pk, name in Product.objects.annotate(lower=Lower("name"))
            .filter(lower__in={p.product.lower() for p in prospects if p.product})
            .values_list("pk", "name")
        }
        uses: dict[int, int] = {}
        now = timezone.now()
        unreachable = _unreachable_advocates(now)
        for prospect in prospects:
            wanted = product_ids.get(prospect.product.lower())
            profile = _ProspectProfile(
                prospect_name=prospect.name,
                prospect_company=prospect.company,
                prospect_industry=prospect.industry,
                prospect_title=prospect.title,
                products=Product.objects.filter(pk=wanted) if wanted else Product.objects.none(),
                topics=Tag.objects.none(),
            )
            chosen = None
            # rank() reads only the request fields a _ProspectProfile carries. Its reasons
            # are kept for the emails, so in the site's language, whoever pairs.
            with translation.override(site_language()):
                matches = rank(profile, limit=10 + sum(uses.values()), now=now)  # type: ignore[arg-type]
            for match in matches:
                if match.advocate.pk in unreachable:
                    continue
                used = uses.get(match.advocate.pk, 0)
                if used < min(max_per_advocate, match.calls_left):
                    chosen = match
                    break
            if chosen is None:
                prospect.advocate, prospect.score, prospect.reasons = None, 0, []
                prospect.paired_at = None
                result.unpaired += 1
            else:
                uses[chosen.advocate.pk] = uses.get(chosen.advocate.pk, 0) + 1
                prospect.advocate = chosen.advocate
                prospect.score = chosen.score
                prospect.reasons = [
                    {"kind": r.kind, "text": r.text, "public": r.public} for r in chosen.reasons
                ]
                prospect.paired_at = now
                result.paired += 1
        CampaignProspect.objects.bulk_update(
            prospects, ["advocate", "score", "reasons", "paired_at"], batch_size=500
        )
    return result


# --- Referral drives: the advocate's one-click send from the hub ------------------------


def campaign_referral_send(
    *,
    campaign_id: int,
    advocate: Advocate,
    referred_name: str,
    referred_email: str,
    referred_company: str = "",
    body: str,
) -> Referral:
    """Send the drive's (edited) message to a colleague as an email referral.

    The referral is the referrals app's own (method email, the advocate's, routed and
    checked as any other) and the campaign is credited with it. Only an advocate who
    received the drive may use it. Raises KindError or referrals' ReferralError.
    """
    campaign = Campaign.objects.filter(
        pk=campaign_id,
        kind=Campaign.Kind.REFERRAL_DRIVE,
        status__in=REFERRAL_DRIVE_ACTIVE,
        messages__advocate=advocate,
        messages__status=CampaignMessage.Status.SENT,
    ).first()
    if campaign is None:
        raise KindError(_("This referral drive is over."))
    body = body.strip()
    if not body:
        raise KindError(_("Write the message to send."))
    with transaction.atomic():
        referral = referral_email_create(
            advocate_id=advocate.pk,
            referred_name=referred_name,
            referred_email=referred_email,
            referred_company=referred_company,
            # The advocate writes to a colleague: in the advocate's language (theirs is
            # the request's), with the program's name as managers set it.
            subject=_("An introduction: %(program)s")
            % {"program": ProgramSettings.load().display_name},
            body=body,
            created_by=advocate.user,
        )
        if referral.stage != Stage.REJECTED:
            CampaignReferral.objects.create(campaign=campaign, referral=referral)
    return referral


# --- Trigger settings -------------------------------------------------------------------

TRIGGER_KINDS = (Campaign.Kind.CHALLENGE, Campaign.Kind.REFERRAL_DRIVE)


def campaign_trigger_set(
    *, campaign: Campaign, trigger: str, level=None, inactive_days: int | None = None
) -> Campaign:
    if campaign.status not in EDITABLE:
        raise KindError(_("Stop the campaign before changing its trigger."))
    if trigger not in Campaign.Trigger.values:
        raise KindError(_("Choose a trigger."))
    if trigger and campaign.kind not in TRIGGER_KINDS:
        raise KindError(
            _(
                "Triggers fire for advocates: use them with challenge announcements or "
                "referral drives."
            )
        )
    if trigger == Campaign.Trigger.LEVEL_REACHED and level is None:
        raise KindError(_("Choose the level that fires the campaign."))
    if trigger == Campaign.Trigger.INACTIVE and not inactive_days:
        raise KindError(_("Say after how many days without activity the campaign fires."))
    campaign.trigger = trigger
    campaign.trigger_level = level if trigger == Campaign.Trigger.LEVEL_REACHED else None
    campaign.trigger_inactive_days = inactive_days if trigger == Campaign.Trigger.INACTIVE else None
    campaign.save(update_fields=["trigger", "trigger_level", "trigger_inactive_days", "updated_at"])
    return campaign


def campaign_trigger_start(*, campaign_id: int) -> Campaign:
    """Start listening: the trigger fires for events from now on (status "sending")."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if not campaign.trigger:
            raise KindError(_("Choose a trigger first."))
        if campaign.status not in (*EDITABLE, Campaign.Status.PAUSED):
            raise KindError(_("The campaign is already running or over."))
        problems = every_language_problems(campaign)
        if problems:
            raise KindError(" ".join(problems))
        now = timezone.now()
        campaign.status = Campaign.Status.SENDING
        campaign.started_at = campaign.started_at or now
        campaign.save(update_fields=["status", "started_at", "updated_at"])
        # Events before the start never fire it: the first evaluation starts here.
        TriggerWatermark.objects.get_or_create(campaign=campaign, defaults={"evaluated_until": now})
    return campaign


def campaign_trigger_stop(*, campaign_id: int) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status in (Campaign.Status.SENDING, Campaign.Status.SENT):
            campaign.status = Campaign.Status.CANCELLED
            campaign.finished_at = timezone.now()
            campaign.save(update_fields=["status", "finished_at", "updated_at"])
    return campaign
