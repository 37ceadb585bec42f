"""A change made through a service shows up in the API's ``updated_since``.

Several services write with ``QuerySet.update()`` (conditional state changes, F()
counters) or raw SQL, which skip ``auto_now``: each sets ``updated_at`` itself, and each
such path is exercised here. The clock is moved an hour on before the change, and the
list asked for what changed in the last half hour: the changed row, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from challenges.services import challenge_archive, submission_approve, submission_reject
from console.ams import ams_refresh
from references.models import ReferenceRequest
from references.services import opportunity_close, prospect_feedback_give
from referrals.models import Stage
from referrals.services import referral_advance
from rewards.services.catalog import redemption_approve, redemption_cancel, redemption_fulfil
from rewards.services.ledger import Award, points_award, points_award_many
from rewards.services.manage import reward_deactivate
from tests.api.factories import api_key, bearer
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.factories import AdvocateFactory, CompanyFactory, ManagerFactory
from tests.references.factories import ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, redeem

pytestmark = pytest.mark.django_db

LATER = timedelta(hours=1)


def _changed(client, resource: str, since) -> list[int]:
    _key, token = api_key([f"{resource}:read"])
    response = client.get(
        f"/api/v1/{resource}", {"updated_since": since.isoformat()}, **bearer(token)
    )
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _after_a_while(change: Callable[[], object]) -> object:
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + LATER):
        return change()


def _since():
    return timezone.now() + LATER / 2


def test_points_awarded_move_the_advocate(client) -> None:
    advocate, other = AdvocateFactory(), AdvocateFactory()
    _after_a_while(
        lambda: points_award(advocate_id=advocate.pk, amount=50, reason="x", idempotency_key="k1")
    )
    assert _changed(client, "advocates", _since()) == [advocate.pk]
    assert other.pk not in _changed(client, "advocates", _since())


def test_points_awarded_in_bulk_move_the_advocates(client) -> None:
    first, second, _untouched = AdvocateFactory(), AdvocateFactory(), AdvocateFactory()
    awards = [
        Award(advocate_id=a.pk, amount=10, reason="x", idempotency_key=f"b{a.pk}")
        for a in (first, second)
    ]
    _after_a_while(lambda: points_award_many(awards=awards))
    assert _changed(client, "advocates", _since()) == [first.pk, second.pk]


def test_an_ams_refresh_moves_the_advocate_only_when_a_figure_changed(client) -> None:
    advocate = AdvocateFactory()
    ams_refresh(advocate_id=advocate.pk)  # settles the figures
    _after_a_while(lambda: ams_refresh(advocate_id=advocate.pk))
    assert _changed(client, "advocates", _since()) == []
    SubmissionFactory(advocate=advocate, status="approved", challenge__kind="review")
    _after_a_while(lambda: ams_refresh(advocate_id=advocate.pk))
    assert _changed(client, "advocates", _since()) == [advocate.pk]


def test_a_new_company_is_listed(client) -> None:
    CompanyFactory()
    company = _after_a_while(CompanyFactory)
    assert _changed(client, "companies", _since()) == [company.pk]


def test_an_archived_challenge_is_listed(client) -> None:
    challenge, _other = ChallengeFactory(), ChallengeFactory()
    _after_a_while(lambda: challenge_archive(challenge_id=challenge.pk))
    assert _changed(client, "challenges", _since()) == [challenge.pk]


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_reviewed_submission_is_listed(client, decision) -> None:
    submission, _other = SubmissionFactory(), SubmissionFactory()
    manager = ManagerFactory()
    if decision == "approve":
        _after_a_while(lambda: submission_approve(submission_id=submission.pk, reviewer=manager))
    else:
        _after_a_while(
            lambda: submission_reject(submission_id=submission.pk, reviewer=manager, reason="No")
        )
    assert _changed(client, "submissions", _since()) == [submission.pk]


def test_stock_taken_and_given_back_and_deactivation_move_the_reward(client) -> None:
    reward, _other = RewardFactory(stock=5), RewardFactory()
    advocate = AdvocateFactory()
    redemption = _after_a_while(lambda: redeem(advocate, reward))
    assert _changed(client, "rewards", _since()) == [reward.pk]
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + 3 * LATER):
        redemption_cancel(redemption_id=redemption.pk, reason="Out of season")
    assert _changed(client, "rewards", timezone.now() + 2 * LATER) == [reward.pk]
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + 5 * LATER):
        reward_deactivate(reward_id=reward.pk)
    assert _changed(client, "rewards", timezone.now() + 4 * LATER) == [reward.pk]


@pytest.mark.parametrize("step", [redemption_approve, redemption_fulfil])
def test_a_redemption_moving_through_fulfilment_is_listed(client, step) -> None:
    reward = RewardFactory()
    redemption, _other = redeem(AdvocateFactory(), reward), redeem(AdvocateFactory(), reward)
    _after_a_while(lambda: step(redemption_id=redemption.pk))
    assert _changed(client, "redemptions", _since()) == [redemption.pk]


def test_a_referral_moving_stage_or_amount_is_listed(client) -> None:
    referral, _other = ReferralFactory(), ReferralFactory()
    _after_a_while(lambda: referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED))
    assert _changed(client, "referrals", _since()) == [referral.pk]
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + 3 * LATER):
        referral_advance(referral_id=referral.pk, stage=Stage.QUALIFIED, amount=Decimal("900"))
    assert _changed(client, "referrals", timezone.now() + 2 * LATER) == [referral.pk]


def test_a_reference_request_with_feedback_or_an_outcome_is_listed(client) -> None:
    request = ReferenceRequestFactory(status=ReferenceRequest.Status.COMPLETED)
    ReferenceRequestFactory()
    _after_a_while(lambda: prospect_feedback_give(request=request, rating=5, text="Great"))
    assert _changed(client, "reference-requests", _since()) == [request.pk]
    request.refresh_from_db()
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + 3 * LATER):
        opportunity_close(request=request, won=True, won_amount=Decimal("1000"))
    assert _changed(client, "reference-requests", timezone.now() + 2 * LATER) == [request.pk]


def test_a_new_ledger_entry_is_listed(client) -> None:
    # An entry's time is its column default (the real clock): read it between the two.
    advocate = AdvocateFactory()
    points_award(advocate_id=advocate.pk, amount=5, reason="x", idempotency_key="early")
    between = timezone.now()
    result = points_award(advocate_id=advocate.pk, amount=5, reason="x", idempotency_key="late")
    assert _changed(client, "ledger", between) == [result.entry.pk]
