"""The Advocate Mobilization Score: the formula by hand, a hand-built dataset with known
scores, incremental == full recompute, the activity hooks, and the weights page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from challenges.models import Challenge, Submission
from console import ams
from console.ams import DEFAULT_WEIGHTS, ams_compute, ams_refresh, ams_refresh_all
from core.models import ProgramSettings
from references.models import Ask
from referrals.models import RejectionReason, Stage
from tests.challenges.factories import ChallengeFactory, NPSResponseFactory, SubmissionFactory
from tests.factories import AdvocateFactory
from tests.references.factories import AskFactory
from tests.referrals.factories import ReferralFactory

# --- The formula, by hand ----------------------------------------------------------------


def test_nothing_done_scores_zero() -> None:
    score = ams_compute({})
    assert (score.total, score.private, score.public) == (0, 0, 0)


def test_the_readme_example() -> None:
    # Private: 2×25 + 1×10 + 1×40 = 100 points = full → 60. Public: 20 + 4×5 = 40 → 16.
    score = ams_compute(
        {
            "reference_calls": 2,
            "referrals_made": 1,
            "referrals_won": 1,
            "reviews": 1,
            "social_shares": 4,
        }
    )
    assert (score.private_points, score.public_points) == (100, 40)
    assert (score.private, score.public, score.total) == (60, 16, 76)


def test_it_saturates_at_100() -> None:
    score = ams_compute(dict.fromkeys(ams.ACTIVITY_KEYS, 1000))
    assert (score.private, score.public, score.total) == (60, 40, 100)


def test_each_activity_counts_up_to_its_cap() -> None:
    # 50 referrals made count as 5: 50 points → 60 × 50/100 = 30.
    assert ams_compute({"referrals_made": 50}).private == 30
    assert ams_compute({"referrals_made": 5}).private == 30
    assert ams_compute({"referrals_made": 4}).private == 24


def test_rounding_is_half_up_and_parts_add_up() -> None:
    weights = {"private_share": 50, "private_full": 4, "referrals_made": 1}
    # 50 × 1/4 = 12.5 → 13
    assert ams_compute({"referrals_made": 1}, weights).private == 13
    weights = {"private_share": 50, "private_full": 3, "referrals_made": 1}
    # 50 × 1/3 = 16.67 → 17; 50 × 2/3 = 33.3 → 33
    assert ams_compute({"referrals_made": 1}, weights).private == 17
    assert ams_compute({"referrals_made": 2}, weights).private == 33
    score = ams_compute({"referrals_made": 2, "social_shares": 3}, weights)
    assert score.total == score.private + score.public


def test_private_share_moves_the_split() -> None:
    counts = {"case_studies": 2, "reviews": 1}  # public 80 + 20 = 100 points
    assert ams_compute(counts, {"private_share": 60}).total == 40
    assert ams_compute(counts, {"private_share": 0}).total == 100
    assert ams_compute(counts, {"private_share": 100}).total == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": 1}, "Unknown AMS setting"),
        ({"reviews": -1}, "between 0 and 1000"),
        ({"private_share": 101}, "between 0 and 100"),
        ({"private_full": 0}, "between 1 and 100000"),
        ({"reviews": "20"}, "whole number"),
        ({"reviews": True}, "whole number"),
    ],
)
def test_bad_weights_are_refused(raw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        ams.weights_clean(raw)


def test_weights_merge_over_the_defaults() -> None:
    assert ams.weights_clean({"reviews": 30}) == {**DEFAULT_WEIGHTS, "reviews": 30}
    assert ams.weights_clean({}) == DEFAULT_WEIGHTS


# --- A hand-built dataset ----------------------------------------------------------------


def _approved(advocate, kind: str, *, days_ago: int = 10, status: str = "approved") -> None:
    challenge = ChallengeFactory(kind=kind, completion_limit=50)
    SubmissionFactory(
        advocate=advocate,
        challenge=challenge,
        status=status,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def dataset(db):
    """Advocates whose scores are worked out by hand (default weights)."""
    now = timezone.now()
    kind = Challenge.Kind
    # p1: 2 calls in the window (+1 too old), 2 referrals made of which 1 won.
    #     private 2×25 + 2×10 + 1×40 = 110 → capped at 100 → 60; public 0. AMS 60.
    p1 = AdvocateFactory(user__first_name="P1")
    for days in (20, 200, 400):
        AskFactory(
            advocate=p1, status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=days)
        )
    AskFactory(advocate=p1, status=Ask.Status.DECLINED)
    ReferralFactory(advocate=p1, created_at=now - timedelta(days=30))
    ReferralFactory(
        advocate=p1,
        stage=Stage.WON,
        created_at=now - timedelta(days=90),
        won_at=now - timedelta(days=3),
    )
    # p2: public only. 3 approved shares (+1 pending, +1 rejected), 1 review, 1 case
    #     study, a testimonial 400 days ago; a rejected referral.
    #     public 15 + 20 + 40 = 75 → 40 × 0.75 = 30. AMS 30.
    p2 = AdvocateFactory(user__first_name="P2")
    for _ in range(3):
        _approved(p2, kind.SOCIAL_SHARE)
    _approved(p2, kind.SOCIAL_SHARE, status="pending")
    _approved(p2, kind.SOCIAL_SHARE, status="rejected")
    _approved(p2, kind.REVIEW)
    _approved(p2, kind.CASE_STUDY, days_ago=100)
    _approved(p2, kind.TESTIMONIAL, days_ago=400)
    _approved(p2, kind.EVENT)  # not advocacy the AMS counts
    ReferralFactory(advocate=p2, stage=Stage.REJECTED, rejection_reason=RejectionReason.SELF)
    # p3: 12 community answers (cap 10 → 50 pts → 20) + 1 referral (10 pts → 6). AMS 26.
    p3 = AdvocateFactory(user__first_name="P3")
    for _ in range(12):
        _approved(p3, kind.COMMUNITY_ANSWER)
    ReferralFactory(advocate=p3, created_at=now - timedelta(days=300))
    # p4: nothing at all. AMS 0.
    p4 = AdvocateFactory(user__first_name="P4")
    # p5: 1 call (25 → 15) and 1 share (5 → 2). AMS 17. A left advocate still counts.
    p5 = AdvocateFactory(user__first_name="P5", status=Advocate.Status.LEFT)
    AskFactory(advocate=p5, status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=1))
    _approved(p5, kind.SOCIAL_SHARE, days_ago=2)
    NPSResponseFactory(advocate=p5, score=4, created_at=now - timedelta(days=50))
    NPSResponseFactory(advocate=p5, score=9, created_at=now - timedelta(days=5))
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5, "now": now}


EXPECTED = {  # name: (ams, private, public)
    "p1": (60, 60, 0),
    "p2": (30, 0, 30),
    "p3": (26, 6, 20),
    "p4": (0, 0, 0),
    "p5": (17, 15, 2),
}


def _scores(dataset) -> dict[str, tuple]:
    out = {}
    for name in EXPECTED:
        a = Advocate.objects.get(pk=dataset[name].pk)
        out[name] = (a.ams, a.ams_private, a.ams_public, a.last_active_at, a.nps_score)
    return out


def _reset() -> None:
    Advocate.objects.update(ams=0, ams_private=0, ams_public=0, last_active_at=None, nps_score=None)


def test_incremental_gives_the_hand_computed_scores(dataset) -> None:
    for name in EXPECTED:
        ams_refresh(advocate_id=dataset[name].pk, now=dataset["now"])
    scores = _scores(dataset)
    assert {name: value[:3] for name, value in scores.items()} == EXPECTED


def test_last_active_and_nps_follow_the_records(dataset) -> None:
    now = dataset["now"]
    for name in EXPECTED:
        ams_refresh(advocate_id=dataset[name].pk, now=now)
    scores = _scores(dataset)
    # p1: the latest of a call 20 days ago and referrals made 30 and 90 days ago.
    assert scores["p1"][3] == now - timedelta(days=20)
    # p2: the newest approved submission (10 days); pending/rejected ones do not count.
    assert scores["p2"][3].date() == (now - timedelta(days=10)).date()
    assert scores["p4"][3] is None
    assert scores["p5"][3] == now - timedelta(days=1)
    assert scores["p5"][4] == 9  # the latest answer, not the lowest or the first
    assert scores["p1"][4] is None


def test_last_active_never_moves_back(dataset) -> None:
    later = timezone.now() + timedelta(hours=1)
    Advocate.objects.filter(pk=dataset["p1"].pk).update(last_active_at=later)
    ams_refresh(advocate_id=dataset["p1"].pk, now=dataset["now"])
    ams_refresh_all(now=dataset["now"])
    assert Advocate.objects.get(pk=dataset["p1"].pk).last_active_at == later


def test_full_recompute_agrees_with_incremental(dataset) -> None:
    for name in EXPECTED:
        ams_refresh(advocate_id=dataset[name].pk, now=dataset["now"])
    incremental = _scores(dataset)
    _reset()
    # Chunks of 2 advocates, so ranges split the dataset.
    changed = ams_refresh_all(now=dataset["now"], chunk=2)
    assert changed == 4  # p4 did nothing: nothing to write
    assert _scores(dataset) == incremental
    assert {name: value[:3] for name, value in incremental.items()} == EXPECTED
    # Run again: nothing changes.
    assert ams_refresh_all(now=dataset["now"], chunk=2) == 0


def test_activity_leaves_the_window_at_the_nightly_recompute(dataset) -> None:
    later = dataset["now"] + timedelta(days=370)
    ams_refresh_all(now=later)
    p5 = Advocate.objects.get(pk=dataset["p5"].pk)
    # The call (1 day old then) and the share have left the 12 months: zero again.
    assert (p5.ams, p5.ams_private, p5.ams_public) == (0, 0, 0)
    assert p5.last_active_at is not None  # it still happened


def test_the_full_recompute_leaves_a_newer_incremental_write_alone(dataset) -> None:
    """Compare-and-set: a chunk computed before an incremental refresh wrote newer values
    must not overwrite them."""
    p4 = dataset["p4"]
    Advocate.objects.filter(pk=p4.pk).update(ams=5, ams_private=5)
    ids = [p4.pk]
    # Read p4's old values (5/5/0), then an incremental refresh lands before the write.
    original = ams._activity_of_range

    def racing(low, high, now):
        rows = original(low, high, now)
        Advocate.objects.filter(pk=p4.pk).update(ams=42, ams_private=42)
        return rows

    ams._activity_of_range = racing
    try:
        ams._apply_chunk(ids, dataset["now"], ams.WeightsTable(program=dict(DEFAULT_WEIGHTS)))
    finally:
        ams._activity_of_range = original
    assert Advocate.objects.get(pk=p4.pk).ams == 42


# --- The hooks: activity refreshes the score ---------------------------------------------


def test_an_approved_submission_refreshes_the_score(
    db, manager, django_capture_on_commit_callbacks
) -> None:
    from challenges.services import submission_approve

    advocate = AdvocateFactory()
    challenge = ChallengeFactory(kind=Challenge.Kind.CASE_STUDY)
    submission = SubmissionFactory(advocate=advocate, challenge=challenge)
    with django_capture_on_commit_callbacks(execute=True):
        submission_approve(submission_id=submission.pk, reviewer=manager)
    advocate.refresh_from_db()
    assert (advocate.ams, advocate.ams_public) == (16, 16)  # 40 pts → 40 × 0.4
    assert advocate.last_active_at is not None


def test_a_rejected_approval_takes_the_score_back(
    db, manager, django_capture_on_commit_callbacks
) -> None:
    from challenges.services import submission_approve, submission_reject

    advocate = AdvocateFactory()
    submission = SubmissionFactory(
        advocate=advocate, challenge=ChallengeFactory(kind=Challenge.Kind.REVIEW)
    )
    with django_capture_on_commit_callbacks(execute=True):
        submission_approve(submission_id=submission.pk, reviewer=manager)
    with django_capture_on_commit_callbacks(execute=True):
        submission_reject(submission_id=submission.pk, reviewer=manager, reason="Not a review")
    advocate.refresh_from_db()
    assert advocate.ams == 0
    assert Submission.objects.get(pk=submission.pk).status == "rejected"


def test_a_referral_made_refreshes_score_and_last_active(
    db, django_capture_on_commit_callbacks
) -> None:
    from referrals.services import referral_create

    advocate = AdvocateFactory()
    with django_capture_on_commit_callbacks(execute=True):
        referral_create(
            advocate_id=advocate.pk,
            method="lead_form",
            referred_name="Lena Lead",
            referred_email="lena@prospect-co.example",
            notify=False,
        )
    advocate.refresh_from_db()
    assert (advocate.ams, advocate.ams_private) == (6, 6)  # 10 pts → 60 × 0.1
    assert advocate.last_active_at is not None


def test_a_redemption_is_activity(db, django_capture_on_commit_callbacks) -> None:
    from tests.rewards.factories import RewardFactory, redeem

    advocate = AdvocateFactory()
    with django_capture_on_commit_callbacks(execute=True):
        redeem(advocate, RewardFactory())
    advocate.refresh_from_db()
    assert advocate.last_active_at is not None
    assert advocate.ams == 0  # redeeming is activity, not advocacy


def test_an_nps_answer_is_kept_on_the_advocate(db) -> None:
    from challenges.services import SubmissionInput, submission_create

    advocate = AdvocateFactory()
    survey = ChallengeFactory(
        kind=Challenge.Kind.SURVEY, questions=[{"label": "Recommend us?", "kind": "nps"}]
    )
    submission_create(
        challenge_id=survey.pk, advocate_id=advocate.pk, data=SubmissionInput(nps_score=10)
    )
    advocate.refresh_from_db()
    assert advocate.nps_score == 10


# --- The weights page --------------------------------------------------------------------


def _form_data(**changes) -> dict:
    return {key: str(value) for key, value in {**DEFAULT_WEIGHTS, **changes}.items()}


def test_weights_page_shows_the_reasoning(db, manager_client) -> None:
    response = manager_client.get(reverse("console:ams"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Reference call given" in body
    assert "four a year is about their own 90-day cap" in body
    assert "AMS <strong>76</strong>" in body  # the worked example


def test_saving_weights_recomputes_everyone(
    dataset, manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    ams_refresh_all(now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("console:ams"), _form_data(private_share=100))
    assert response.status_code == 302
    program = ProgramSettings.objects.get(pk=1)
    assert program.ams_weights == {"private_share": 100}  # only what differs is stored
    assert program.updated_by == manager
    p2 = Advocate.objects.get(pk=dataset["p2"].pk)
    p1 = Advocate.objects.get(pk=dataset["p1"].pk)
    assert (p2.ams, p2.ams_public) == (0, 0)  # public-only advocate: nothing now
    assert p1.ams == 100


def test_bad_weights_are_a_message_and_change_nothing(db, manager_client) -> None:
    response = manager_client.post(reverse("console:ams"), _form_data(reviews=-5))
    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()
    assert ProgramSettings.objects.filter(pk=1, ams_weights__reviews=-5).count() == 0
    assert ams.weights_current() == DEFAULT_WEIGHTS


def test_reset_restores_the_defaults(db, manager, manager_client) -> None:
    ams.ams_weights_save(weights={"reviews": 50}, by=manager)
    assert ams.weights_current()["reviews"] == 50
    manager_client.post(reverse("console:ams"), {"reset": "1"})
    assert ams.weights_current() == DEFAULT_WEIGHTS


def test_advocate_detail_shows_the_score(db, manager_client) -> None:
    advocate = AdvocateFactory()
    Advocate.objects.filter(pk=advocate.pk).update(ams=76, ams_private=60, ams_public=16)
    body = manager_client.get(reverse("advocates:detail", args=[advocate.pk])).content.decode()
    assert "<strong>76</strong> / 100" in body
    assert "private 60 · public 16" in body


def test_an_imported_referral_is_activity(db, django_capture_on_commit_callbacks) -> None:
    from referrals.services.imports import referrals_import
    from tests.referrals.test_imports import REF_HEADER

    advocate = AdvocateFactory()
    email = advocate.user.email
    text = REF_HEADER + (
        f"SF-1,{email},Lena,lena@prospect-co.example,,lead_form,2026-01-05,,,\n"
        f"SF-2,{email},Max,max@other-co.example,,lead_form,2026-01-06,,,\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        referrals_import(source=text, chunk_rows=1)
    advocate.refresh_from_db()
    assert advocate.ams > 0
    assert advocate.last_active_at is not None
