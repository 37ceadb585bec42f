"""submission_create: who may complete what, when, how often, and with which input."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from advocates.models import Advocate
from challenges import services
from challenges.models import Challenge, NPSResponse, Submission
from challenges.services import SubmissionInput, SubmissionRefused, submission_create
from rewards.models import LedgerEntry
from rewards.services.ledger import points_award
from tests.challenges.factories import ChallengeFactory, LevelFactory, SubmissionFactory
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

TEXT = SubmissionInput(text="It saved us a week.")


def snapshot(advocate: Advocate) -> tuple:
    """Everything a refusal must leave untouched."""
    advocate.refresh_from_db()
    return (
        list(Submission.objects.order_by("id").values_list("id", "status")),
        list(LedgerEntry.objects.order_by("id").values_list("id", "amount")),
        list(NPSResponse.objects.values_list("id", flat=True)),
        advocate.balance,
        advocate.lifetime_points,
    )


def png_upload(
    name: str = "shot.png", *, exif: bool = False, fmt: str = "PNG"
) -> SimpleUploadedFile:
    image = Image.new("RGB", (40, 30), "purple")
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {2: (1.0, 2.0, 3.0)}  # GPS
        image.save(out, fmt, exif=data)
    else:
        image.save(out, fmt)
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, out.getvalue(), content_type=content_type)


def test_manual_review_challenge_creates_a_pending_submission_and_no_points(advocate) -> None:
    challenge = ChallengeFactory()
    submission = submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    assert submission.status == Submission.Status.PENDING
    assert submission.text == "It saved us a week."
    advocate.refresh_from_db()
    assert advocate.balance == 0
    assert not LedgerEntry.objects.exists()


def test_auto_approve_challenge_awards_at_once(advocate) -> None:
    challenge = ChallengeFactory(auto_approve=True, points=40)
    submission = submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    assert submission.status == Submission.Status.APPROVED
    advocate.refresh_from_db()
    assert advocate.balance == 40
    entry = LedgerEntry.objects.get()
    assert entry.idempotency_key == f"challenge-submission:{submission.pk}:approved"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_at": timezone.now() - timedelta(minutes=1)}, "ended"),
        ({"status": Challenge.Status.ARCHIVED}, "closed"),
        ({"status": Challenge.Status.DRAFT}, "not available"),
        ({"starts_at": timezone.now() + timedelta(days=1), "ends_at": None}, "opens on"),
    ],
    ids=["expired", "archived", "draft", "not-started"],
)
def test_closed_challenges_are_refused_and_nothing_changes(advocate, changes, message) -> None:
    challenge = ChallengeFactory(auto_approve=True)
    if "starts_at" in changes:
        challenge.ends_at = None
        challenge.save()
    Challenge.objects.filter(pk=challenge.pk).update(**changes)
    before = snapshot(advocate)
    with pytest.raises(SubmissionRefused, match=message):
        submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    assert snapshot(advocate) == before


def test_over_the_completion_limit_is_refused_and_nothing_changes(advocate) -> None:
    challenge = ChallengeFactory(completion_limit=2, auto_approve=True, points=10)
    submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    before = snapshot(advocate)
    with pytest.raises(SubmissionRefused, match="the most it allows"):
        submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    assert snapshot(advocate) == before
    assert before[3] == 20


def test_a_rejected_try_does_not_use_up_the_limit(advocate, manager) -> None:
    challenge = ChallengeFactory(completion_limit=1)
    first = submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    services.submission_reject(submission_id=first.pk, reviewer=manager, reason="Too short")
    again = submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    assert again.status == Submission.Status.PENDING


def test_tag_audience_only_for_advocates_with_the_tag(advocate, other_advocate) -> None:
    tag = TagFactory(name="Great support")
    advocate.tags.add(tag)
    challenge = ChallengeFactory(audience=Challenge.Audience.TAG, audience_tag=tag)
    before = snapshot(other_advocate)
    with pytest.raises(SubmissionRefused, match="another group"):
        submission_create(challenge_id=challenge.pk, advocate_id=other_advocate.pk, data=TEXT)
    assert snapshot(other_advocate) == before
    assert submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)


def test_level_audience_by_lifetime_points(advocate) -> None:
    champion = LevelFactory(name="Champion", threshold=500)
    challenge = ChallengeFactory(audience=Challenge.Audience.LEVEL, audience_level=champion)
    with pytest.raises(SubmissionRefused, match="Champion level"):
        submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
    assert not Submission.objects.exists()
    points_award(advocate_id=advocate.pk, amount=500, reason="t", idempotency_key="t:500")
    assert submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)


def test_an_inactive_advocate_is_refused(advocate) -> None:
    Advocate.objects.filter(pk=advocate.pk).update(status=Advocate.Status.PAUSED)
    with pytest.raises(SubmissionRefused):
        submission_create(challenge_id=ChallengeFactory().pk, advocate_id=advocate.pk, data=TEXT)
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        (Challenge.Kind.SOCIAL_SHARE, SubmissionInput(), "link"),
        (Challenge.Kind.REVIEW, SubmissionInput(text="x"), "link"),
        (Challenge.Kind.TESTIMONIAL, SubmissionInput(url="https://x.example"), "answer"),
        (Challenge.Kind.UPLOAD, SubmissionInput(text="x"), "image"),
    ],
)
def test_each_kind_needs_its_input(advocate, kind, data, message) -> None:
    challenge = ChallengeFactory(kind=kind)
    with pytest.raises(SubmissionRefused, match=message):
        submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=data)
    assert not Submission.objects.exists()


def test_upload_is_reencoded_without_metadata(advocate) -> None:
    challenge = ChallengeFactory(kind=Challenge.Kind.UPLOAD)
    upload = png_upload("photo.jpg", exif=True, fmt="JPEG")
    assert b"SecretCam" in upload.read()
    upload.seek(0)
    submission = submission_create(
        challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(image=upload)
    )
    with submission.image.open("rb") as file:
        stored = file.read()
    assert b"SecretCam" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert submission.image.name.endswith(".jpg")
    assert "photo" not in submission.image.name  # the advocate's file name is not kept


def test_a_non_image_upload_is_refused_and_nothing_is_recorded(advocate) -> None:
    challenge = ChallengeFactory(kind=Challenge.Kind.UPLOAD)
    fake = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    before = snapshot(advocate)
    with pytest.raises(SubmissionRefused, match="JPEG, PNG or WebP"):
        submission_create(
            challenge_id=challenge.pk, advocate_id=advocate.pk, data=SubmissionInput(image=fake)
        )
    assert snapshot(advocate) == before


def test_survey_with_nps_records_a_response_linked_to_the_submission(advocate) -> None:
    challenge = ChallengeFactory(
        kind=Challenge.Kind.SURVEY,
        auto_approve=True,
        questions=[{"label": "How likely...?", "kind": "nps"}],
    )
    submission = submission_create(
        challenge_id=challenge.pk,
        advocate_id=advocate.pk,
        data=SubmissionInput(nps_score=9, nps_comment="Great support"),
    )
    response = NPSResponse.objects.get()
    assert (response.score, response.comment) == (9, "Great support")
    assert response.submission == submission
    assert response.advocate == advocate


@pytest.mark.parametrize("score", [None, 11, -1])
def test_survey_nps_needs_a_score_from_0_to_10(advocate, score) -> None:
    challenge = ChallengeFactory(
        kind=Challenge.Kind.SURVEY, questions=[{"label": "How likely...?", "kind": "nps"}]
    )
    with pytest.raises(SubmissionRefused, match="0 to 10"):
        submission_create(
            challenge_id=challenge.pk,
            advocate_id=advocate.pk,
            data=SubmissionInput(nps_score=score),
        )
    assert not Submission.objects.exists()
    assert not NPSResponse.objects.exists()


def test_other_advocates_submissions_do_not_count_toward_my_limit(advocate, other_advocate) -> None:
    challenge = ChallengeFactory(completion_limit=1)
    SubmissionFactory(challenge=challenge, advocate=other_advocate)
    assert submission_create(challenge_id=challenge.pk, advocate_id=advocate.pk, data=TEXT)
