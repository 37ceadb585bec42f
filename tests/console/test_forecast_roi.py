"""The referral revenue forecast against the quarter's goal, and the program ROI: their
arithmetic on small known histories, and their console pages."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from console.selectors.roi import program_roi
from references.models import Meeting
from referrals.forecast import Quarter, referral_forecast
from referrals.models import ReferralStageChange, RejectionReason, RevenueGoal, Stage
from rewards.models import Redemption
from tests.factories import AdvocateFactory
from tests.references.factories import MeetingFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 8, 15, 12, 0))  # Q3 2026
IN_Q3 = timezone.make_aware(datetime(2026, 7, 10, 9, 0))
IN_Q2 = timezone.make_aware(datetime(2026, 5, 10, 9, 0))


def _referral(path: list[str], *, amount=None, won_at=None, advocate=None):
    """A referral that went through ``path`` (its stage history), now at its last stage."""
    stage = path[-1]
    referral = ReferralFactory(
        advocate=advocate or AdvocateFactory(),
        stage=stage,
        rejection_reason=RejectionReason.INVALID if stage == Stage.REJECTED else "",
        deal_amount=amount,
        won_at=won_at,
        created_at=IN_Q2,
    )
    previous = ""
    for number, to_stage in enumerate(path):
        ReferralStageChange.objects.create(
            referral=referral,
            from_stage=previous,
            to_stage=to_stage,
            occurred_at=IN_Q2 + timedelta(days=number),
        )
        previous = to_stage
    return referral


SUB, QUA, OPP, WON, LOST, REJ = (
    Stage.SUBMITTED,
    Stage.QUALIFIED,
    Stage.OPPORTUNITY,
    Stage.WON,
    Stage.LOST,
    Stage.REJECTED,
)


@pytest.fixture
def history():
    """Closed after entering qualified: 3 won of 4; opportunity: 1 of 2; submitted: 3 of
    5 (one rejected). Open: 10,000 at qualified, 20,000 at opportunity, one submitted
    without an amount. Won this quarter: 1,000 + 2,000 (5,000 last quarter)."""
    advocate = AdvocateFactory()
    _referral([SUB, QUA, OPP, WON], amount=Decimal(1000), won_at=IN_Q3, advocate=advocate)
    _referral([SUB, QUA, OPP, LOST], amount=Decimal(9000), advocate=advocate)
    _referral([SUB, QUA, WON], amount=Decimal(2000), won_at=IN_Q3, advocate=advocate)
    _referral([SUB, QUA, WON], amount=Decimal(5000), won_at=IN_Q2, advocate=advocate)
    _referral([SUB, REJ], advocate=advocate)
    _referral([SUB, QUA], amount=Decimal(10000), advocate=advocate)
    _referral([SUB, OPP], amount=Decimal(20000), advocate=advocate)
    _referral([SUB], advocate=advocate)
    RevenueGoal.objects.create(year=2026, quarter=3, amount=Decimal(41000))


def test_the_forecast_adds_open_deals_times_their_stages_conversion(history):
    f = referral_forecast(now=NOW)
    assert f.quarter == Quarter(2026, 3)
    assert (f.won_revenue, f.won_count) == (Decimal(3000), 2)
    lines = {line.stage: line for line in f.stages}
    assert (lines[QUA].won, lines[QUA].closed, lines[QUA].rate) == (3, 4, Decimal("0.75"))
    assert (lines[OPP].won, lines[OPP].closed, lines[OPP].rate) == (1, 2, Decimal("0.5"))
    assert (lines[SUB].won, lines[SUB].closed, lines[SUB].rate) == (3, 5, Decimal("0.6"))
    assert lines[SUB].unpriced == 1
    assert f.pipeline == Decimal(30000)
    assert f.expected == Decimal(7500) + Decimal(10000)
    assert f.forecast == Decimal(20500)
    assert f.goal == Decimal(41000)
    assert f.goal_percent == 50
    assert f.gap == Decimal(20500)


def test_a_past_quarters_forecast_is_its_won_revenue(history):
    f = referral_forecast(quarter=Quarter(2026, 2), now=NOW)
    assert (f.won_revenue, f.forecast, f.goal) == (Decimal(5000), Decimal(5000), None)


def test_the_forecast_page_and_setting_a_goal(manager_client, django_assert_max_num_queries):
    current = Quarter.of(timezone.now())
    _referral([SUB, QUA, WON], amount=Decimal(4000), won_at=current.start)
    url = reverse("console:referral_forecast")

    response = manager_client.post(url, {"quarter": str(current), "amount": "8000"})
    assert response.status_code == 302
    assert RevenueGoal.objects.get(year=current.year, quarter=current.number).amount == 8000

    page = manager_client.get(url).content.decode()
    assert "data-goal>8,000<" in page
    assert "data-won>4,000<" in page
    assert "data-forecast>4,000<" in page
    assert "50% of the goal" in page
    assert "from the stage history" in page

    with django_assert_max_num_queries(12):
        manager_client.get(url)
    for _ in range(5):
        _referral([SUB, QUA], amount=Decimal(100))
    with django_assert_max_num_queries(12):
        manager_client.get(url)


def test_a_bad_goal_changes_nothing(manager_client):
    url = reverse("console:referral_forecast")
    response = manager_client.post(url, {"quarter": "1999-Q9", "amount": "-5"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "greater than or equal to 0" in page
    assert not RevenueGoal.objects.exists()


# --- ROI ------------------------------------------------------------------------------


def _redemption(reward, at, status=Redemption.Status.FULFILLED):
    return Redemption.objects.create(
        reward=reward,
        advocate=AdvocateFactory(),
        points=reward.points_cost,
        status=status,
        idempotency_key=uuid.uuid4().hex,
        created_at=at,
    )


def _held_call(amount, at, attendance=Meeting.Attendance.COUNTED):
    return MeetingFactory(
        ask__request__opportunity_amount=Decimal(amount),
        starts_at=at,
        attendance=attendance,
        status=Meeting.Status.CLOSED,
    )


@pytest.fixture
def roi_data():
    mug = RewardFactory(cost_amount=Decimal("25.00"))
    thanks = RewardFactory()  # no cost entered
    _redemption(mug, IN_Q3)
    _redemption(mug, IN_Q3 + timedelta(days=3))
    _redemption(mug, IN_Q3, status=Redemption.Status.CANCELLED)
    _redemption(thanks, IN_Q3)
    _redemption(mug, IN_Q2)
    _referral([SUB, WON], amount=Decimal(1000), won_at=IN_Q3)
    _referral([SUB, WON], amount=Decimal(3000), won_at=IN_Q2)
    _referral([SUB, LOST], amount=Decimal(7000))
    meeting = _held_call(40000, IN_Q3)
    # A second held call for the same request counts the request once.
    MeetingFactory(
        ask=meeting.ask,
        starts_at=IN_Q3 + timedelta(days=1),
        attendance=Meeting.Attendance.COUNTED,
    )
    _held_call(90000, IN_Q3, attendance=Meeting.Attendance.NOT_HELD)
    _held_call(10000, IN_Q2)


def test_roi_per_quarter(roi_data):
    q3, q2, q1, q4_2025 = program_roi(now=NOW)
    assert [q.quarter for q in (q3, q2, q1, q4_2025)] == [
        Quarter(2026, 3),
        Quarter(2026, 2),
        Quarter(2026, 1),
        Quarter(2025, 4),
    ]
    assert (q3.redemptions, q3.uncosted, q3.reward_cost) == (3, 1, Decimal(50))
    assert (q3.referred_revenue, q3.referred_deals) == (Decimal(1000), 1)
    assert (q3.influenced_revenue, q3.influenced_deals) == (Decimal(40000), 1)
    assert q3.ratio == Decimal("820.0")
    assert (q2.reward_cost, q2.referred_revenue, q2.influenced_revenue) == (
        Decimal(25),
        Decimal(3000),
        Decimal(10000),
    )
    assert q2.ratio == Decimal("520.0")
    assert (q1.redemptions, q1.reward_cost, q1.ratio) == (0, Decimal(0), None)


def test_the_roi_page(manager_client, django_assert_max_num_queries):
    current = Quarter.of(timezone.now())
    mug = RewardFactory(cost_amount=Decimal("20"))
    _redemption(mug, current.start)
    _referral([SUB, WON], amount=Decimal(2000), won_at=current.start)
    url = reverse("console:program_roi")
    page = manager_client.get(url).content.decode()
    assert f'data-quarter="{current}"' in page
    assert "<strong>100.0</strong>" in page
    assert "nothing spent" in page  # the quarters before

    with django_assert_max_num_queries(10):
        manager_client.get(url)
    for _ in range(5):
        _redemption(mug, current.start)
        _held_call(500, current.start)
    with django_assert_max_num_queries(10):
        manager_client.get(url)
