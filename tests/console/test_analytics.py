"""Analytics: NPS against AMS, the promoters who have not acted yet, concentration of
referrals among top advocates, references given; counts on a hand-built dataset."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from challenges.models import Challenge, Submission
from console.selectors import analytics
from references.models import Ask, ReferenceRequest
from referrals.kpis import referral_kpis
from referrals.models import RejectionReason, Stage
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.factories import AdvocateFactory
from tests.references.factories import AskFactory, ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def _advocate(name: str, **fields) -> Advocate:
    return AdvocateFactory(user__first_name=name, user__last_name="Test", **fields)


@pytest.fixture
def people():
    """Who says what and who did what in the last 12 months."""
    now = timezone.now()
    survey = ChallengeFactory(kind=Challenge.Kind.SURVEY)
    review = ChallengeFactory(kind=Challenge.Kind.REVIEW)
    p = {
        # Promoters who acted: a referral, an approved review, a reference call.
        "referrer": _advocate("Rita", nps_score=10, ams=40),
        "reviewer": _advocate("Rob", nps_score=9, ams=15),
        "caller": _advocate("Cal", nps_score=9, ams=25),
        # Promoters who have not acted yet.
        "eager": _advocate("Eve", nps_score=10, ams=0, last_active_at=now),
        "quiet": _advocate("Quinn", nps_score=10, ams=0, last_active_at=None),
        "surveyed": _advocate("Sue", nps_score=9, ams=5, last_active_at=now - timedelta(days=3)),
        "rejected": _advocate("Reg", nps_score=9, ams=0, last_active_at=now - timedelta(days=9)),
        "long_ago": _advocate("Lou", nps_score=9, ams=0, last_active_at=now - timedelta(days=30)),
        "paused": _advocate(
            "Pat", nps_score=10, ams=0, status=Advocate.Status.PAUSED, last_active_at=None
        ),
        # Not promoters, or not enrolled.
        "passive": _advocate("Pam", nps_score=8, ams=100),
        "detractor": _advocate("Dan", nps_score=3, ams=95),
        "silent": _advocate("Sid", nps_score=None, ams=50),
        "invited": _advocate("Ivy", nps_score=10, status=Advocate.Status.INVITED),
        "left": _advocate("Leo", nps_score=10, status=Advocate.Status.LEFT),
    }
    ReferralFactory(advocate=p["referrer"], created_at=now - timedelta(days=200))
    SubmissionFactory(advocate=p["reviewer"], challenge=review, status=Submission.Status.APPROVED)
    AskFactory(
        advocate=p["caller"], status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=20)
    )
    # Answering a survey is not advocacy; a rejected referral is not one; a call and a
    # review more than a year ago are out of the window.
    SubmissionFactory(advocate=p["surveyed"], challenge=survey, status=Submission.Status.APPROVED)
    SubmissionFactory(advocate=p["eager"], challenge=review, status=Submission.Status.PENDING)
    ReferralFactory(
        advocate=p["rejected"], stage=Stage.REJECTED, rejection_reason=RejectionReason.SELF
    )
    AskFactory(
        advocate=p["long_ago"],
        status=Ask.Status.COMPLETED,
        completed_at=now - timedelta(days=400),
    )
    SubmissionFactory(
        advocate=p["long_ago"],
        challenge=review,
        status=Submission.Status.APPROVED,
        created_at=now - timedelta(days=380),
    )
    return p


def test_promoters_not_acted_follow_the_rule_best_first(people) -> None:
    names = [a.user.first_name for a in analytics.promoters_not_acted()]

    # NPS 10 first (most recently active first, never active last), then the 9s.
    assert names == ["Eve", "Quinn", "Pat", "Sue", "Reg", "Lou"]


def test_say_vs_do_counts_each_cell(people) -> None:
    say_do = analytics.say_vs_do()

    assert say_do.cells[(10, 0)] == 3  # Eve, Quinn, Pat (AMS 0)
    assert say_do.cells[(10, 4)] == 1  # Rita, AMS 40
    assert say_do.cells[(9, 0)] == 3  # Sue (5), Reg, Lou
    assert say_do.cells[(9, 1)] == 1  # Rob, AMS 15
    assert say_do.cells[(9, 2)] == 1  # Cal, AMS 25
    assert say_do.cells[(8, 9)] == 1  # Pam, AMS 100 is in the top band
    assert say_do.cells[(3, 9)] == 1
    assert sum(say_do.cells.values()) == 11  # invited and left advocates are not counted
    assert say_do.no_nps == 1
    assert (say_do.promoters, say_do.passives, say_do.detractors) == (9, 1, 1)
    assert say_do.promoters_acting == 3  # Rita, Rob and Cal: AMS 10 or more


def _referrals(advocate, n: int, won: int, created_at) -> None:
    for i in range(n):
        ReferralFactory(
            advocate=advocate,
            stage=Stage.WON if i < won else Stage.SUBMITTED,
            created_at=created_at,
        )


def test_concentration_matches_the_referral_kpis() -> None:
    when = timezone.now() - timedelta(days=10)
    heavy = AdvocateFactory()
    _referrals(heavy, 30, 1, when)
    for i in range(19):  # 20 referring advocates: top 10% is 2, top 1% is 1
        _referrals(AdvocateFactory(), 5 if i == 0 else 1, 1, when)
    ReferralFactory(
        advocate=heavy, stage=Stage.REJECTED, rejection_reason=RejectionReason.INVALID
    )  # not counted
    ReferralFactory(advocate=heavy, created_at=when - timedelta(days=400))  # outside

    start, end = date.today() - timedelta(days=365), date.today() + timedelta(days=1)
    since, until = analytics_window(start, end)
    c = analytics.concentration(since=since, until=until)

    assert (c.referring, c.referrals, c.won) == (20, 53, 20)
    assert (c.top1_advocates, c.top1_referrals, c.top1_won) == (1, 30, 1)
    assert (c.top10_advocates, c.top10_referrals, c.top10_won) == (2, 35, 2)
    assert (c.top10_referral_share, c.top10_won_share) == (66, 10)
    kpis = referral_kpis(start=start, end=end)
    assert kpis["top_10_percent"] == {
        "advocates": 2,
        "share_of_referrals": round(35 / 53, 4),
        "share_of_won": round(2 / 20, 4),
    }
    assert kpis["top_1_percent"]["advocates"] == c.top1_advocates


def analytics_window(start: date, end: date):
    from datetime import UTC, datetime, time

    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end, time.min, tzinfo=UTC),
    )


def test_concentration_with_no_referrals_is_empty() -> None:
    now = timezone.now()
    c = analytics.concentration(since=now - timedelta(days=365), until=now)

    assert (c.referring, c.referrals, c.top10_advocates) == (0, 0, 0)
    assert c.top10_referral_share is None


def test_references_given_and_influenced_revenue() -> None:
    now = timezone.now()
    caller = AdvocateFactory()
    won = ReferenceRequestFactory(
        status=ReferenceRequest.Status.COMPLETED,
        outcome=ReferenceRequest.Outcome.WON,
        won_amount=Decimal("12000.50"),
    )
    AskFactory(request=won, advocate=caller, status=Ask.Status.COMPLETED, completed_at=now)
    AskFactory(advocate=caller, status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=3))
    AskFactory(status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=500))
    ReferenceRequestFactory(status=ReferenceRequest.Status.OPEN)

    refs = analytics.references_given(since=now - timedelta(days=365))

    assert (refs.calls, refs.advocates) == (2, 1)
    assert refs.influenced_revenue == Decimal("12000.50")
    assert refs.influenced_deals == 1


def test_page_lists_promoters_linking_to_their_profile(people, manager_client) -> None:
    response = manager_client.get(reverse("console:analytics"))

    assert response.status_code == 200
    page = response.content.decode()
    eve = people["eager"]
    assert f'href="{reverse("advocates:detail", args=[eve.pk])}"' in page
    assert "Rita" not in page  # she acted
    assert page.count("<svg") == 1
    assert 'aria-labelledby="chart-saydo-title chart-saydo-desc"' in page
    assert 'aria-label="Console"' in page


def test_promoters_are_paginated_with_an_htmx_partial(manager_client, htmx_headers) -> None:
    for i in range(30):
        AdvocateFactory(nps_score=9, user__first_name=f"P{i:02d}")

    first = manager_client.get(reverse("console:analytics"))
    second = manager_client.get(reverse("console:analytics") + "?page=2", **htmx_headers)

    assert len(first.context["page"].object_list) == 25
    assert "Page 1 of 2" in first.content.decode()
    fragment = second.content.decode()
    assert fragment.lstrip().startswith('<section id="promoters"')
    assert "<html" not in fragment
    assert fragment.count('href="/people/') == 5
    assert "Page 2 of 2" in fragment


def test_query_count_does_not_grow_with_the_program(manager_client) -> None:
    def build(n: int) -> None:
        for _ in range(n):
            advocate = AdvocateFactory(nps_score=9, ams=30)
            ReferralFactory(advocate=advocate)
            AdvocateFactory(nps_score=10)  # a promoter who has not acted

    def count() -> int:
        cache.delete(analytics.CONCENTRATION_CACHE_KEY)  # count its query every time
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(reverse("console:analytics"))
        assert response.status_code == 200
        return len(queries)

    build(2)
    count()
    small = count()
    build(15)
    large = count()

    assert small == large
