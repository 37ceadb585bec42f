"""Writes for challenges: managing them, completing them, reviewing the submissions.

Points move only through the ledger (rewards.services). An approval awards with the key
``challenge-submission:<id>:approved``; the conditional update pending → approved
decides which of several racing approvals awards, and the ledger's unique key makes a
retry a no-op anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from advocates.models import Advocate, User
from advocates.selectors import is_group_member
from challenges.models import Challenge, NPSResponse, Submission
from challenges.selectors import submission_counts_forget
from core import events, fragments
from core.audit import audit_record
from core.i18n import lazy_text, localized_names, site_language, site_text
from core.images import reencode_image
from core.outbox import activity_after_commit
from rewards.models import LedgerEntry
from rewards.services.ledger import InsufficientPoints, LedgerError, points_award, points_reverse

SUBMISSION_IMAGE_SIDE = 1600  # px: enough to read a screenshot, small enough to store


class SubmissionRefused(Exception):
    """The challenge cannot be completed now; the message is shown to the advocate."""


class ReviewError(Exception):
    """A review action that was refused; the message is shown to the manager."""


def approval_key(submission_id: int) -> str:
    return f"challenge-submission:{submission_id}:approved"


# --- Managing challenges ----------------------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "description",
    # After the plain names: each language's text as the form gave it (core.i18n).
    *localized_names("title", "description"),
    "kind",
    "points",
    "starts_at",
    "ends_at",
    "audience",
    "audience_tag",
    "audience_level",
    "audience_group",
    "completion_limit",
    "auto_approve",
    "target_url",
    "event_at",
    "questions",
)


def challenge_create(*, created_by: User, data: dict[str, Any], publish: bool = False) -> Challenge:
    """Create a challenge from a validated ChallengeForm's cleaned data (a plain
    ``title`` is the site language's, whatever language the manager reads in)."""
    with translation.override(site_language()):
        challenge = Challenge(
            created_by=created_by,
            status=Challenge.Status.PUBLISHED if publish else Challenge.Status.DRAFT,
            **{name: data[name] for name in EDITABLE_FIELDS if name in data},
        )
    challenge.full_clean(exclude=["created_by"])
    with transaction.atomic():
        challenge.save()
        audit_record(actor=created_by, action="challenge.create", target=challenge)
    return challenge


def challenge_update(
    *, challenge_id: int, data: dict[str, Any], publish: bool = False, by: User | None = None
) -> Challenge:
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge_id)
        if challenge.status == Challenge.Status.ARCHIVED:
            raise ValidationError(_("This challenge is archived; it can no longer be edited."))
        if data.get("kind", challenge.kind) != challenge.kind and challenge.submissions.exists():
            # Existing submissions hold the input of the old type.
            raise ValidationError(
                _("Advocates have already completed this challenge, so its type cannot change.")
            )
        with translation.override(site_language()):  # a plain name is the site's text
            for name in EDITABLE_FIELDS:
                if name in data:
                    setattr(challenge, name, data[name])
        if publish:
            challenge.status = Challenge.Status.PUBLISHED
        challenge.full_clean(exclude=["created_by"])
        challenge.save()
        if by is not None:
            changed = sorted(name for name in EDITABLE_FIELDS if name in data)
            audit_record(
                actor=by, action="challenge.edit", target=challenge, detail={"fields": changed}
            )
    return challenge


def challenge_publish(*, challenge_id: int, by: User | None = None) -> Challenge:
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge_id)
        if challenge.status == Challenge.Status.ARCHIVED:
            raise ValidationError(_("An archived challenge cannot be published again."))
        if challenge.ends_at is not None and challenge.ends_at <= timezone.now():
            raise ValidationError(_("This challenge has already ended: move its end date first."))
        challenge.status = Challenge.Status.PUBLISHED
        challenge.save(update_fields=["status", "updated_at"])
        if by is not None:
            audit_record(actor=by, action="challenge.publish", target=challenge)
    return challenge


def challenge_archive(*, challenge_id: int, by: User | None = None) -> Challenge:
    """Close a challenge for good. Its submissions stay, and pending ones can still be
    reviewed: the advocate did the work while it was open."""
    with transaction.atomic():
        archived = (
            Challenge.objects.filter(pk=challenge_id)
            .exclude(status=Challenge.Status.ARCHIVED)
            .update(status=Challenge.Status.ARCHIVED, updated_at=timezone.now())
        )
        fragments.scopes_changed(fragments.Scope.CHALLENGES)
        challenge = Challenge.objects.get(pk=challenge_id)
        if archived and by is not None:
            audit_record(actor=by, action="challenge.archive", target=challenge)
    return challenge


# --- Completing a challenge -------------------------------------------------------------


def submission_image_process(upload: UploadedFile) -> ContentFile:
    """The avatar's rules (advocates.images), scaled to fit a screenshot."""
    return reencode_image(upload, max_side=SUBMISSION_IMAGE_SIDE)


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def challenge_refusal(
    challenge: Challenge, advocate: Advocate, *, done: int, now: Any = None
) -> str:
    """Why ``advocate`` cannot complete ``challenge`` now, or "" if they can.

    ``done``: their submissions that count toward the limit (all but rejected ones).
    """
    now = now or timezone.now()
    if challenge.status == Challenge.Status.DRAFT:
        return _("This challenge is not available.")
    if challenge.status == Challenge.Status.ARCHIVED:
        return _("This challenge is closed: it no longer takes submissions.")
    if challenge.starts_at > now:
        return _("This challenge opens on %(when)s.") % {"when": _when(challenge.starts_at)}
    if challenge.ends_at is not None and challenge.ends_at <= now:
        return _("This challenge ended on %(when)s: it no longer takes submissions.") % {
            "when": _when(challenge.ends_at)
        }
    if challenge.audience == Challenge.Audience.TAG and not (
        challenge.audience_tag_id and advocate.tags.filter(pk=challenge.audience_tag_id).exists()
    ):
        return _("This challenge is for another group of advocates.")
    if challenge.audience == Challenge.Audience.LEVEL and not (
        challenge.audience_level is not None
        and challenge.audience_level.threshold <= advocate.lifetime_points
    ):
        if challenge.audience_level is None:
            return _("This challenge opens when you reach a higher level.")
        return _("This challenge opens when you reach the %(level)s level.") % {
            "level": challenge.audience_level.name
        }
    if challenge.audience == Challenge.Audience.GROUP and not (
        challenge.audience_group_id
        and is_group_member(advocate_id=advocate.pk, group_id=challenge.audience_group_id)
    ):
        return _("This challenge is for the members of a group you are not in.")
    if done >= challenge.completion_limit:
        if challenge.completion_limit == 1:
            return _("You have already completed this challenge.")
        return ngettext(
            "You have already completed this challenge %(done)d times, "
            "the most it allows (%(limit)d).",
            "You have already completed this challenge %(done)d times, "
            "the most it allows (%(limit)d).",
            done,
        ) % {"done": done, "limit": challenge.completion_limit}
    return ""


@dataclass
class SubmissionInput:
    """What the advocate gave, already validated by SubmissionForm for the challenge's kind."""

    url: str = ""
    text: str = ""
    image: UploadedFile | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    nps_score: int | None = None
    nps_comment: str = ""


def _check_input(challenge: Challenge, data: SubmissionInput) -> None:
    # The form checks this too; the service holds the rule for every caller.
    kind = Challenge.Kind
    if challenge.kind in (kind.SOCIAL_SHARE, kind.REVIEW) and not data.url:
        raise SubmissionRefused(_("Add the link to your post or review."))
    if challenge.kind in (kind.TESTIMONIAL, kind.REFERRAL, kind.REFERENCE) and not data.text:
        raise SubmissionRefused(_("Write your answer first."))
    if challenge.kind == kind.UPLOAD and data.image is None:
        raise SubmissionRefused(_("Choose an image to upload."))
    if data.nps_score is not None and not 0 <= data.nps_score <= 10:
        raise SubmissionRefused(_("Pick a score from 0 to 10."))
    wants_nps = any(q.get("kind") == "nps" for q in challenge.questions or [])
    if challenge.kind == kind.SURVEY and wants_nps and data.nps_score is None:
        raise SubmissionRefused(_("Pick a score from 0 to 10."))


def submission_create(
    *, challenge_id: int, advocate_id: int, data: SubmissionInput | None = None
) -> Submission:
    """Record an advocate's completion of a challenge, or raise SubmissionRefused.

    Everything is checked under a lock on the advocate's row, counting their existing
    submissions inside it, so a double click (or ten) cannot pass the completion limit.
    A refusal records nothing. An auto-approve challenge is approved at once.
    """
    data = data or SubmissionInput()
    # Decode the image before taking any lock: Pillow work is slow, and a bad file is
    # refused here without touching the database.
    image = None
    if data.image is not None:
        try:
            image = submission_image_process(data.image)
        except ValidationError as error:
            raise SubmissionRefused(error.messages[0]) from None
    with transaction.atomic():
        advocate = Advocate.objects.select_for_update().get(pk=advocate_id)
        try:
            challenge = Challenge.objects.select_related("audience_level").get(pk=challenge_id)
        except Challenge.DoesNotExist:
            raise SubmissionRefused(_("This challenge is not available.")) from None
        if advocate.status != Advocate.Status.ACTIVE:
            raise SubmissionRefused(_("Your membership is not active."))
        done = (
            Submission.objects.filter(challenge=challenge, advocate=advocate)
            .exclude(status=Submission.Status.REJECTED)
            .count()
        )
        refusal = challenge_refusal(challenge, advocate, done=done)
        if refusal:
            raise SubmissionRefused(refusal)
        _check_input(challenge, data)
        submission = Submission(
            challenge=challenge,
            advocate=advocate,
            url=data.url,
            text=data.text,
            answers=data.answers,
        )
        if image is not None:
            submission.image.save(image.name, image, save=False)
        submission.save()
        submission_counts_forget(challenge.pk)
        if data.nps_score is not None:
            NPSResponse.objects.create(
                advocate=advocate,
                score=data.nps_score,
                comment=data.nps_comment,
                submission=submission,
            )
            # The latest answer, kept on the advocate for segments and the console.
            Advocate.objects.filter(pk=advocate.pk).update(
                nps_score=data.nps_score, updated_at=timezone.now()
            )
        if challenge.auto_approve:
            try:
                with transaction.atomic():
                    _approve(submission=submission, reviewer=None)
            except ReviewError:
                # Its points are above the program's maximum per event (lowered since
                # the challenge was made): it waits for a manager, who sees why.
                pass
            submission.refresh_from_db()
    return submission


# --- Reviewing --------------------------------------------------------------------------


def _queue_progress(advocate_id: int) -> None:
    activity_after_commit(advocate_id=advocate_id)


def _approve(*, submission: Submission, reviewer: User | None) -> bool:
    """Pending → approved and the award, in the caller's transaction. True if this call
    approved it; False if it was no longer pending (someone else decided first)."""
    won = Submission.objects.filter(pk=submission.pk, status=Submission.Status.PENDING).update(
        status=Submission.Status.APPROVED,
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
        rejection_reason="",
        updated_at=timezone.now(),
    )
    if not won:
        return False
    submission_counts_forget(submission.challenge_id)
    fragments.advocates_changed([submission.advocate_id])
    fragments.scopes_changed(fragments.Scope.REVIEW)  # the console's queue and counts
    challenge = submission.challenge
    try:
        points_award(
            advocate_id=submission.advocate_id,
            amount=challenge.points,
            reason=lazy_text(gettext_lazy("Challenge: %(title)s"), title=lambda: challenge.title),
            idempotency_key=approval_key(submission.pk),
            source=submission,
        )
    except LedgerError as error:  # e.g. above the maximum points per event
        raise ReviewError(str(error)) from None
    events.emit(
        "submission.approved",
        {
            "submission": submission.pk,
            "challenge": challenge.pk,
            "challenge_title": site_text(challenge, "title"),
            "advocate": submission.advocate_id,
            "points": challenge.points,
            "auto_approved": reviewer is None,
        },
    )
    _queue_progress(submission.advocate_id)
    return True


def submission_approve(*, submission_id: int, reviewer: User) -> Submission:
    """Approve and award the challenge's points, exactly once however often it is called.

    Approving an approved submission changes nothing; a rejected one stays rejected
    (ReviewError).
    """
    with transaction.atomic():
        submission = Submission.objects.select_related("challenge").get(pk=submission_id)
        # The conditional update inside _approve waits for any concurrent decision on
        # this row and then sees its outcome, so only one caller ever awards.
        if not _approve(submission=submission, reviewer=reviewer):
            submission.refresh_from_db()
            if submission.status == Submission.Status.REJECTED:
                raise ReviewError(_("This submission was already rejected."))
            return submission
        submission.refresh_from_db()
        audit_record(
            actor=reviewer,
            action="submission.approve",
            target=submission,
            detail={"challenge": submission.challenge.title, "points": submission.challenge.points},
        )
    return submission


def submission_reject(*, submission_id: int, reviewer: User, reason: str) -> Submission:
    """Reject with a reason the advocate sees. Rejecting an approved submission takes
    its points back with a visible reversing ledger entry."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Give a reason: the advocate sees it."))
    reason = reason[:500]
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("challenge")
            .get(pk=submission_id)
        )
        if submission.status == Submission.Status.REJECTED:
            return submission
        was_approved = submission.status == Submission.Status.APPROVED
        submission.status = Submission.Status.REJECTED
        submission.rejection_reason = reason
        submission.reviewed_by = reviewer
        submission.reviewed_at = timezone.now()
        submission.save(
            update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "updated_at"]
        )
        submission_counts_forget(submission.challenge_id)
        if was_approved:
            award = LedgerEntry.objects.filter(idempotency_key=approval_key(submission.pk)).first()
            if award is not None:
                try:
                    points_reverse(
                        entry_id=award.pk,
                        reason=lazy_text(
                            gettext_lazy("Reversed: %(title)s was not approved"),
                            title=lambda: submission.challenge.title,
                        ),
                    )
                except InsufficientPoints:
                    # Rolls the rejection back too: nothing changes.
                    raise ReviewError(
                        _(
                            "The advocate has already spent these points, so the approval "
                            "cannot be reversed. Adjust their points first."
                        )
                    ) from None
            _queue_progress(submission.advocate_id)
        audit_record(
            actor=reviewer,
            action="submission.reject",
            target=submission,
            detail={
                "challenge": submission.challenge.title,
                "reason": reason,
                "was_approved": was_approved,
            },
        )
    return submission


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def submissions_bulk_approve(*, submission_ids: list[int], reviewer: User) -> BulkResult:
    """Approve each in its own transaction, so one refusal does not undo the others."""
    result = BulkResult()
    for pk in sorted(set(submission_ids)):
        try:
            submission_approve(submission_id=pk, reviewer=reviewer)
        except (ReviewError, Submission.DoesNotExist) as error:
            result.failed[pk] = str(error) if isinstance(error, ReviewError) else _("Not found.")
        else:
            result.done.append(pk)
    return result


def submissions_bulk_reject(
    *, submission_ids: list[int], reviewer: User, reason: str
) -> BulkResult:
    if not (reason or "").strip():
        raise ReviewError(_("Give a reason: the advocates see it."))
    result = BulkResult()
    for pk in sorted(set(submission_ids)):
        try:
            submission_reject(submission_id=pk, reviewer=reviewer, reason=reason)
        except (ReviewError, Submission.DoesNotExist) as error:
            result.failed[pk] = str(error) if isinstance(error, ReviewError) else _("Not found.")
        else:
            result.done.append(pk)
    return result
