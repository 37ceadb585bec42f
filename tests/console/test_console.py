"""The console home: program health, activity, funnels and levels on a hand-built dataset,
a constant number of queries whatever the program's size, and the console navigation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocates.links import invitation_token
from advocates.models import Advocate
from advocates.services import invitation_accept, invitation_create
from challenges.models import Challenge, Submission
from console import charts
from console.selectors.home import CHARTS_CACHE_KEY, console_overview, month_start
from core import fragments
from core.cache import CONSOLE_FIGURES_VERSION_KEY
from referrals.models import Method, ReferralStageChange, RejectionReason, Stage
from rewards.models import PeriodPoints, Redemption
from tests.challenges.factories import ChallengeFactory, LevelFactory, SubmissionFactory
from tests.factories import AdvocateFactory, InvitationFactory
from tests.references.factories import ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, give_points

pytestmark = pytest.mark.django_db


def _monday(day):
    return day - timedelta(days=day.weekday())


@pytest.fixture
def program():
    """Four enrolled advocates (three active, one paused), one invited (and one
    advocate half-way through joining), one who left."""
    now = timezone.now()
    LevelFactory(name="Insider", threshold=0)
    LevelFactory(name="Advocate", threshold=500)
    LevelFactory(name="Champion", threshold=2000)
    a1 = AdvocateFactory(last_active_at=now)
    a2 = AdvocateFactory(last_active_at=month_start(now) - timedelta(days=10))
    a3 = AdvocateFactory(last_active_at=None)
    a4 = AdvocateFactory(status=Advocate.Status.PAUSED, last_active_at=now)
    AdvocateFactory(status=Advocate.Status.INVITED, joined_at=None, last_active_at=now)
    InvitationFactory()  # the invited contact: no advocate until they accept
    AdvocateFactory(status=Advocate.Status.LEFT, last_active_at=now)
    # Lifetime points through the ledger: Insider a1 (0) and a4 (100), Advocate a2 (600),
    # Champion a3 (2,500). Each award also lands in this week's and month's points.
    give_points(a2, 600)
    give_points(a3, 2500)
    give_points(a4, 100)
    this_monday = _monday(now.date())
    PeriodPoints.objects.create(
        advocate=a1, period="week", starts_on=this_monday - timedelta(weeks=2), points=70
    )
    PeriodPoints.objects.create(
        advocate=a1, period="week", starts_on=this_monday - timedelta(weeks=3), points=0
    )
    PeriodPoints.objects.create(  # older than 12 weeks: not drawn
        advocate=a1, period="week", starts_on=this_monday - timedelta(weeks=20), points=999
    )

    # Challenges: two waiting for review, one approved, one rejected in the last 90
    # days; an approval 100 days ago is outside the funnel's window.
    testimonial = ChallengeFactory(kind=Challenge.Kind.TESTIMONIAL)
    share = ChallengeFactory(kind=Challenge.Kind.SOCIAL_SHARE)
    SubmissionFactory(advocate=a1, challenge=testimonial)
    SubmissionFactory(advocate=a2, challenge=share)
    SubmissionFactory(advocate=a3, challenge=share, status=Submission.Status.APPROVED)
    SubmissionFactory(advocate=a2, challenge=testimonial, status=Submission.Status.REJECTED)
    SubmissionFactory(
        advocate=a4,
        challenge=share,
        status=Submission.Status.APPROVED,
        created_at=now - timedelta(days=100),
    )

    # Redemptions: requested and approved are open; fulfilled and cancelled are not.
    reward = RewardFactory()
    for i, status in enumerate(Redemption.Status.values):
        Redemption.objects.create(
            reward=reward, advocate=a1, points=100, status=status, idempotency_key=f"r{i}"
        )

    # Reference requests: three open, two closed.
    for status in ("open", "asked", "scheduled", "completed", "cancelled"):
        ReferenceRequestFactory(status=status)

    # Referrals of the last year (one rejected, one older than a year).
    ReferralFactory(advocate=a1, method=Method.LEAD_FORM)
    ReferralFactory(
        advocate=a1,
        method=Method.EMAIL,
        stage=Stage.QUALIFIED,
        created_at=now - timedelta(days=10),
    )
    ReferralFactory(
        advocate=a2, method=Method.EMAIL, stage=Stage.WON, created_at=now - timedelta(days=60)
    )
    lost = ReferralFactory(
        advocate=a2, method=Method.VERBAL, stage=Stage.LOST, created_at=now - timedelta(days=100)
    )
    # The lost referral had reached "opportunity" before it was lost.
    for before, after in (("", Stage.SUBMITTED), (Stage.SUBMITTED, Stage.OPPORTUNITY)):
        ReferralStageChange.objects.create(
            referral=lost, from_stage=before, to_stage=after, occurred_at=now
        )
    ReferralStageChange.objects.create(
        referral=lost, from_stage=Stage.OPPORTUNITY, to_stage=Stage.LOST, occurred_at=now
    )
    ReferralFactory(
        advocate=a3, method=Method.VERBAL, stage=Stage.WON, created_at=now - timedelta(days=5)
    )
    ReferralFactory(
        advocate=a3,
        method=Method.SOCIAL,
        stage=Stage.REJECTED,
        rejection_reason=RejectionReason.DUPLICATE,
    )
    ReferralFactory(
        advocate=a3,
        method=Method.LEAD_FORM,
        stage=Stage.WON,
        created_at=now - timedelta(days=400),
    )
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4}


def test_health_counts_each_queue(program) -> None:
    overview = console_overview()
    health, figures = overview.health, overview.charts.program

    assert figures.enrolled == 4  # active and paused; not invited, not left
    assert figures.invited == 1
    assert figures.active_this_month == 2  # a1 and a4; a2 was active last month
    assert figures.active_percent == 50
    assert figures.earned_this_month == 3  # a2, a3 and a4 earned points this month
    assert figures.new_referrals == 3  # last 30 days, the rejected one left out
    assert (health.pending_reviews, health.pending_reviews_more) == (2, False)
    assert health.pending_redemptions == 2
    assert health.open_reference_requests == 3


def test_pending_reviews_are_counted_up_to_the_cap(monkeypatch, manager_client) -> None:
    from challenges import selectors

    challenge = ChallengeFactory()
    for _ in range(4):
        SubmissionFactory(challenge=challenge)
    SubmissionFactory(challenge=challenge, status=Submission.Status.APPROVED)
    assert selectors.pending_review_count(cap=4) == selectors.CappedCount(4, more=False)
    assert selectors.pending_review_count(cap=3) == selectors.CappedCount(3, more=True)

    monkeypatch.setattr(selectors, "REVIEW_COUNT_CAP", 3)
    page = manager_client.get(reverse("console:home")).content.decode()
    assert '<span class="stat__value">3+</span>' in page


def test_activity_weeks_sum_the_weekly_points(program) -> None:
    weeks = console_overview().charts.weeks

    assert len(weeks) == 12
    assert weeks[-1].starts_on == _monday(timezone.now().date())
    assert (weeks[-1].points, weeks[-1].advocates) == (3200, 3)
    assert (weeks[-3].points, weeks[-3].advocates) == (70, 1)
    assert (weeks[-4].points, weeks[-4].advocates) == (0, 0)  # a row of 0 points
    assert sum(week.points for week in weeks) == 3270  # 20 weeks ago is not in the chart


def test_challenge_funnel_counts_advocates_in_the_window(program) -> None:
    overview = console_overview().charts

    assert overview.challenge_funnel == [
        ("Enrolled advocates", 4),
        ("Submitted to a challenge", 3),
        ("Had a submission approved", 1),
    ]
    assert overview.challenge_submissions == {
        "submissions": 4,
        "approved": 1,
        "pending": 2,
        "rejected": 1,
    }


def test_referral_funnel_counts_the_furthest_stage_reached(program) -> None:
    overview = console_overview().charts

    assert overview.referral_funnel == [
        ("Submitted", 5),
        ("Qualified", 4),  # qualified, the lost one (went past it) and the two won
        ("Opportunity", 3),
        ("Won", 2),
    ]
    assert overview.referral_lost == 1
    by_method = {row.method: (row.referrals, row.won, row.conversion) for row in overview.methods}
    assert by_method == {
        "lead_form": (1, 0, 0),
        "email": (2, 1, 50),
        "shareable_link": (0, 0, None),
        "social": (0, 0, None),  # the only social referral was rejected
        "print_card": (0, 0, None),
        "verbal": (2, 1, 50),
    }


def test_levels_distribution(program) -> None:
    levels = [(lc.name, lc.advocates) for lc in console_overview().charts.levels]

    assert levels == [("Insider", 2), ("Advocate", 1), ("Champion", 1)]


def test_advocates_below_the_first_level_have_their_own_bar() -> None:
    LevelFactory(name="Bronze", threshold=100)
    AdvocateFactory()

    levels = [(lc.name, lc.advocates) for lc in console_overview().charts.levels]

    assert levels == [("No level yet", 1), ("Bronze", 0)]


def test_page_shows_the_cards_linking_to_their_queues(program, manager_client) -> None:
    response = manager_client.get(reverse("console:home"))

    assert response.status_code == 200
    page = response.content.decode()
    for name in (
        "challenges:review",
        "rewards:fulfilment",
        "references:console",
        "referrals:rep_list",
        "advocates:directory",
    ):
        assert f'href="{reverse(name)}"' in page
    cards = response.context["h"]
    assert (cards.pending_reviews, cards.pending_redemptions) == (2, 2)
    # Charts are SVG with a title and a description, and a table of the same numbers.
    assert page.count("<svg") == 6
    assert page.count('role="img"') == 6
    assert '<title id="chart-levels-title">Advocates by level</title>' in page
    assert '<th scope="row">Champion</th><td class="num">1</td>' in page
    assert "<script" not in page.split("<main", 1)[1]  # no chart library, no inline JS


def test_query_count_does_not_grow_with_the_program(manager_client) -> None:
    def build(n: int) -> None:
        LevelFactory(name="Insider", threshold=0)
        challenge = ChallengeFactory()
        for _ in range(n):
            advocate = AdvocateFactory(last_active_at=timezone.now(), nps_score=9)
            give_points(advocate, 10)
            SubmissionFactory(advocate=advocate, challenge=challenge)
            ReferralFactory(advocate=advocate)
            ReferenceRequestFactory()

    def count() -> int:
        cache.delete(CHARTS_CACHE_KEY)  # measure the charts' queries too, every time
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(reverse("console:home"))
        assert response.status_code == 200
        return len(queries)

    build(2)
    count()  # the first request also warms caches (program settings, the session)
    small = count()
    build(12)
    large = count()

    assert small == large
    assert large <= 18, f"{large} queries for the console home"


def test_cards_are_live_while_the_charts_come_from_the_cache(manager_client) -> None:
    advocate = AdvocateFactory()
    url = reverse("console:home")
    manager_client.get(url)
    # The body again (a queue changed), the charts from the cache.
    fragments.scopes_changed(fragments.Scope.REVIEW)
    with CaptureQueriesContext(connection) as before:
        first = manager_client.get(url)
    cached = len(before)

    SubmissionFactory(advocate=advocate)  # a new submission waiting for review
    with CaptureQueriesContext(connection) as after:
        second = manager_client.get(url)

    assert second.context["h"].pending_reviews == first.context["h"].pending_reviews + 1
    # The charts were computed once: the funnel does not see the new submission yet.
    assert second.context["c"] == first.context["c"]
    assert len(after) == cached
    cache.delete(CHARTS_CACHE_KEY)
    third = manager_client.get(url)
    assert third.context["c"].challenge_submissions["pending"] == 1


def test_an_invitation_and_a_join_show_on_the_cached_cards_at_once(
    manager, manager_client, django_capture_on_commit_callbacks
) -> None:
    AdvocateFactory()
    url = reverse("console:home")
    before = manager_client.get(url).context["p"]
    assert (before.enrolled, before.invited) == (1, 0)

    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(email="new@example.com", invited_by=manager, send=False)
    invited = manager_client.get(url)
    assert (invited.context["p"].enrolled, invited.context["p"].invited) == (1, 1)
    assert "1 invited, not joined yet" in invited.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        invitation_accept(token=invitation_token(invitation), password="a-Long-pass-1234")
    joined = manager_client.get(url).context["p"]
    assert (joined.enrolled, joined.invited) == (2, 0)


def test_expired_and_accepted_invitations_are_not_waiting_to_join(manager) -> None:
    now = timezone.now()
    InvitationFactory(invited_by=manager)
    InvitationFactory(created_at=now - timedelta(days=settings.INVITATION_MAX_AGE_DAYS, hours=1))
    InvitationFactory(accepted_at=now)

    assert console_overview().charts.program.invited == 1


def test_figures_dropped_by_a_write_are_recomputed_once_across_processes(monkeypatch) -> None:
    from console.selectors import home as console

    AdvocateFactory()
    old = console.console_charts()
    monkeypatch.setattr(console, "_without_broker", lambda: False)
    AdvocateFactory()
    cache.set(CONSOLE_FIGURES_VERSION_KEY, "after-a-write", timeout=None)
    cache.add(console.CHARTS_LOCK_KEY, 1)  # another request is recomputing them

    assert console.console_charts() == old  # served meanwhile, not "being computed"
    cache.delete(console.CHARTS_LOCK_KEY)
    assert console.console_charts().program.enrolled == 2


def test_a_refresh_replaces_the_cached_figures() -> None:
    from console.selectors.home import console_charts
    from console.tasks import console_charts_refresh_task

    AdvocateFactory()
    first = console_charts()
    assert first.program.enrolled == 1
    AdvocateFactory()
    assert console_charts() == first  # from the cache
    console_charts_refresh_task.delay()  # what the beat runs every few minutes
    assert console_charts().program.enrolled == 2


def test_stale_figures_are_served_while_a_refresh_is_queued(monkeypatch) -> None:
    from console.selectors import home as console

    AdvocateFactory()
    old = console.console_charts_refresh(now=timezone.now() - timedelta(hours=1))
    queued = []
    monkeypatch.setattr(console, "_without_broker", lambda: False)
    monkeypatch.setattr(console, "_queue_refresh", lambda: queued.append(1))

    assert console.console_charts() == old  # the manager does not wait for new ones
    assert console.console_charts() == old
    assert len(queued) == 1  # asked once: the lock holds the second request back


def test_empty_cache_with_a_worker_renders_the_live_cards_and_queues_the_charts(
    monkeypatch, manager_client
) -> None:
    from console.selectors import home as console

    SubmissionFactory()
    queued = []
    monkeypatch.setattr(console, "_without_broker", lambda: False)
    monkeypatch.setattr(console, "_queue_refresh", lambda: queued.append(1))

    response = manager_client.get(reverse("console:home"))

    assert response.status_code == 200
    assert response.context["c"] is None
    assert response.context["h"].pending_reviews == 1
    assert "Charts are being computed" in response.content.decode()
    assert len(queued) == 1
    assert cache.get(CHARTS_CACHE_KEY) is None  # the worker computes them, not the request


def test_empty_cache_and_a_broker_that_refuses_computes_in_the_request(monkeypatch) -> None:
    from console.selectors import home as console

    def refuse():
        raise OSError("broker down")

    AdvocateFactory()
    monkeypatch.setattr(console, "_without_broker", lambda: False)
    monkeypatch.setattr(console, "_queue_refresh", refuse)

    assert console.console_charts().program.enrolled == 1
    assert cache.get(console.CHARTS_LOCK_KEY) is None  # the next refresh is not held back


def test_console_nav_shows_the_pages_that_exist(manager_client) -> None:
    page = manager_client.get(reverse("console:home")).content.decode()
    nav = page.split('aria-label="Console"', 1)[1].split("</nav>", 1)[0]

    for name in ("console:analytics", "console:exports", "challenges:review"):
        assert f'href="{reverse(name)}"' in nav
    assert f'<a href="{reverse("console:home")}" aria-current="page">Home</a>' in nav


def test_base_nav_gives_managers_one_console_link(manager_client) -> None:
    page = manager_client.get(reverse("console:home")).content.decode()
    main_nav = page.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]

    assert f'href="{reverse("console:home")}"' in main_nav
    # The console's pages moved to its own navigation.
    assert f'href="{reverse("rewards:fulfilment")}"' not in main_nav
    assert f'href="{reverse("challenges:review")}"' not in main_nav


# --- charts geometry ---------------------------------------------------------------


def test_line_chart_scales_to_a_nice_top() -> None:
    chart = charts.line_chart(["a", "b", "c"], [("s", "css", [0, 35, 70])])

    assert chart.maximum == 80  # steps of 20
    assert [t.label for t in chart.y_ticks] == ["0", "20", "40", "60", "80"]
    ys = [p.y for p in chart.series[0].points]
    assert ys[0] == chart.plot_bottom  # 0 sits on the axis
    assert ys[0] > ys[1] > ys[2]  # higher values are drawn higher
    assert chart.series[0].points[0].x == chart.plot_left
    assert chart.series[0].points[-1].x == chart.plot_right
    assert chart.rows == [("a", [0]), ("b", [35]), ("c", [70])]


def test_funnel_widths_follow_the_first_step() -> None:
    drawn = charts.funnel([("all", 200), ("half", 100), ("none", 0)])

    widths = [step.width for step in drawn.steps]
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert widths[2] == 0
    assert [s.of_previous for s in drawn.steps] == [None, 50, 0]
    assert [s.of_first for s in drawn.steps] == [100, 50, 0]


def test_funnel_of_nothing_has_no_division_by_zero() -> None:
    drawn = charts.funnel([("all", 0), ("some", 0)])

    assert [s.of_first for s in drawn.steps] == [None, None]


def test_bubble_area_grows_with_the_count() -> None:
    grid = charts.bubble_grid(
        {(0, 0): 1, (10, 9): 4},
        column_labels=[str(i) for i in range(11)],
        row_labels=list("0123456789"),
    )

    small, big = sorted(grid.bubbles, key=lambda b: b.count)
    assert big.r == pytest.approx(2 * small.r)  # 4× the count, 2× the radius
    assert big.x > small.x
    assert big.y < small.y
    assert grid.matrix[0][0] == "9"
    assert grid.matrix[0][1][10] == 4


@pytest.mark.parametrize(
    ("maximum", "step", "intervals"),
    [(0, 1, 1), (8, 2, 4), (70, 20, 4), (101, 50, 3), (2400, 1000, 3), (4100, 2000, 3)],
)
def test_nice_axis(maximum: int, step: int, intervals: int) -> None:
    assert charts.nice_axis(maximum) == (step, intervals)
