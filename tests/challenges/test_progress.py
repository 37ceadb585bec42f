"""Levels and badges: reached by points and activity, recorded and notified once."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from advocates.models import Notification
from challenges.models import (
    AdvocateBadge,
    Badge,
    Challenge,
    Level,
    LevelAchievement,
    Submission,
)
from challenges.selectors import progress as progress_selectors
from challenges.selectors.progress import level_for, level_progress
from challenges.services import progress
from challenges.services.progress import BadgeRow, LevelRow, on_activity
from rewards.models import LedgerEntry
from rewards.services.ledger import points_award
from tests import factories
from tests.concurrency import run_at_once


@pytest.fixture
def levels(db) -> list[Level]:
    return [
        Level.objects.create(name=name, threshold=threshold)
        for name, threshold in progress.DEFAULT_LEVELS
    ]


@contextmanager
def ledger_clock(moment: datetime):
    """Run the ledger (and anything reading the time) as if it were ``moment``."""
    field = LedgerEntry._meta.get_field("created_at")
    with (
        patch("django.utils.timezone.now", return_value=moment),
        patch.object(field, "_get_default", new=lambda: moment),
    ):
        yield


def award(advocate, amount: int, key: str, at: datetime | None = None) -> None:
    if at is None:
        points_award(advocate_id=advocate.pk, amount=amount, reason=key, idempotency_key=key)
        return
    with ledger_clock(at):
        points_award(advocate_id=advocate.pk, amount=amount, reason=key, idempotency_key=key)


def approved(advocate, kind: str = Challenge.Kind.SOCIAL_SHARE) -> Submission:
    challenge = Challenge.objects.create(
        title=f"{kind} challenge", kind=kind, points=10, status=Challenge.Status.PUBLISHED
    )
    return Submission.objects.create(
        challenge=challenge, advocate=advocate, status=Submission.Status.APPROVED
    )


def badge(rule: str, count: int = 1, name: str | None = None) -> Badge:
    return Badge.objects.create(name=name or f"{rule} {count}", rule=rule, count=count, icon="⭐")


# --- Levels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (0, "Insider"),
        (499, "Insider"),
        (500, "Advocate"),
        (1999, "Advocate"),
        (2000, "Champion"),
        (4999, "Champion"),
        (5000, "Legend"),
        (1_000_000, "Legend"),
    ],
)
def test_level_for_uses_the_highest_threshold_reached(levels, points, expected) -> None:
    assert level_for(points).name == expected


def test_level_progress_says_what_is_next_and_how_far(levels) -> None:
    halfway = level_progress(250)
    assert (halfway.level.name, halfway.next_level.name) == ("Insider", "Advocate")
    assert halfway.points_to_go == 250
    assert halfway.percent == 50

    champion = level_progress(3500)
    assert champion.next_level.name == "Legend"
    assert champion.points_to_go == 1500
    assert champion.percent == 50

    top = level_progress(7000)
    assert top.level.name == "Legend"
    assert top.next_level is None
    assert (top.points_to_go, top.percent) == (0, 100)


def test_no_levels_configured_means_no_level(db) -> None:
    assert level_for(100) is None
    assert level_progress(100).level is None


def test_reaching_a_level_is_recorded_and_notified_once(levels, advocate) -> None:
    award(advocate, 600, "a:1")
    first = on_activity(advocate_id=advocate.pk)
    second = on_activity(advocate_id=advocate.pk)

    assert [level.name for level in first.levels] == ["Insider", "Advocate"]
    assert second.levels == []
    assert set(
        LevelAchievement.objects.filter(advocate=advocate).values_list("level__name", flat=True)
    ) == {"Insider", "Advocate"}
    # The starting level is not news; reaching Advocate is, once.
    assert list(
        Notification.objects.filter(advocate=advocate).values_list("message", flat=True)
    ) == ["You reached the Advocate level!"]


def test_jumping_several_levels_notifies_the_top_one_only(levels, advocate) -> None:
    award(advocate, 2500, "a:1")
    on_activity(advocate_id=advocate.pk)
    assert LevelAchievement.objects.filter(advocate=advocate).count() == 3
    assert list(Notification.objects.values_list("message", flat=True)) == [
        "You reached the Champion level!"
    ]


def test_a_level_added_below_my_level_is_recorded_quietly(levels, advocate) -> None:
    award(advocate, 2500, "a:1")
    on_activity(advocate_id=advocate.pk)
    Level.objects.create(name="Rookie", threshold=100)
    on_activity(advocate_id=advocate.pk)
    assert LevelAchievement.objects.filter(advocate=advocate, level__name="Rookie").exists()
    assert Notification.objects.count() == 1


def test_on_activity_for_an_unknown_advocate_does_nothing(levels) -> None:
    assert on_activity(advocate_id=987654).levels == []


# --- Badges ----------------------------------------------------------------------------


def test_first_challenge_badge_is_awarded_once_with_one_notification(advocate) -> None:
    first = badge(Badge.Rule.FIRST_CHALLENGE, name="First step")
    assert on_activity(advocate_id=advocate.pk).badges == []  # nothing done yet

    approved(advocate)
    assert on_activity(advocate_id=advocate.pk).badges == [first]
    approved(advocate)
    assert on_activity(advocate_id=advocate.pk).badges == []

    assert AdvocateBadge.objects.filter(advocate=advocate, badge=first).count() == 1
    assert Notification.objects.filter(advocate=advocate).count() == 1
    assert "First step" in Notification.objects.get().message


def test_counting_badges_wait_for_the_count(advocate) -> None:
    three = badge(Badge.Rule.CHALLENGES, count=3)
    reviews = badge(Badge.Rule.REVIEWS, count=2)
    approved(advocate, Challenge.Kind.REVIEW)
    approved(advocate)
    # Pending and rejected submissions are not completed challenges.
    pending = approved(advocate, Challenge.Kind.REVIEW)
    Submission.objects.filter(pk=pending.pk).update(status=Submission.Status.PENDING)
    assert on_activity(advocate_id=advocate.pk).badges == []

    approved(advocate, Challenge.Kind.REVIEW)
    assert set(on_activity(advocate_id=advocate.pk).badges) == {three, reviews}


def test_only_the_advocates_own_activity_counts(advocate, other_advocate) -> None:
    badge(Badge.Rule.FIRST_CHALLENGE)
    approved(other_advocate)
    assert on_activity(advocate_id=advocate.pk).badges == []


def test_streak_counts_consecutive_weeks_with_points(advocate) -> None:
    streak = badge(Badge.Rule.STREAK_WEEKS, count=3)
    # Weeks of Mar 2, Mar 9 (twice), then a gap, then Mar 23 and Mar 30: runs of 2 and 2.
    for day, key in [(3, "a"), (10, "b"), (15, "c"), (25, "d"), (31, "e")]:
        award(advocate, 10, key, at=datetime(2026, 3, day, 12, tzinfo=UTC))
    assert progress_selectors.longest_streak_weeks(advocate.pk) == 2
    assert on_activity(advocate_id=advocate.pk).badges == []

    award(advocate, 10, "f", at=datetime(2026, 4, 8, 12, tzinfo=UTC))  # week of Apr 6
    assert progress_selectors.longest_streak_weeks(advocate.pk) == 3
    assert on_activity(advocate_id=advocate.pk).badges == [streak]


def test_referral_and_reference_badges_count_their_challenges_when_apps_have_nothing(
    advocate,
) -> None:
    referral = badge(Badge.Rule.FIRST_REFERRAL)
    reference = badge(Badge.Rule.FIRST_REFERENCE)
    assert progress_selectors.referrals_count(advocate.pk) == 0
    assert progress_selectors.references_count(advocate.pk) == 0
    assert on_activity(advocate_id=advocate.pk).badges == []

    approved(advocate, Challenge.Kind.REFERRAL)
    approved(advocate, Challenge.Kind.REFERENCE)
    assert set(on_activity(advocate_id=advocate.pk).badges) == {referral, reference}


def test_counters_return_zero_for_a_missing_model_or_field(advocate) -> None:
    assert progress_selectors._count_model("nope", "Nothing", advocate_id=advocate.pk) == 0
    assert progress_selectors._count_model("challenges", "Badge", advocate_id=advocate.pk) == 0


def test_on_activity_is_cheap_when_nothing_is_new(
    levels, advocate, django_assert_max_num_queries
) -> None:
    for rule in Badge.Rule.values:
        badge(rule, count=5)
    approved(advocate)
    on_activity(advocate_id=advocate.pk)
    with django_assert_max_num_queries(8):
        on_activity(advocate_id=advocate.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_calls_award_each_badge_and_level_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent transactions")
    for name, threshold in progress.DEFAULT_LEVELS:
        Level.objects.create(name=name, threshold=threshold)
    first = badge(Badge.Rule.FIRST_CHALLENGE)
    advocate = factories.AdvocateFactory()
    award(advocate, 700, "p:1")
    approved(advocate)

    outcomes = run_at_once(lambda _: on_activity(advocate_id=advocate.pk), threads=8)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert AdvocateBadge.objects.filter(advocate=advocate, badge=first).count() == 1
    assert LevelAchievement.objects.filter(advocate=advocate).count() == 2
    assert Notification.objects.filter(advocate=advocate).count() == 2  # Advocate + badge


# --- Configuring levels and badges ------------------------------------------------------


def _ladder() -> list[tuple[str, int]]:
    return list(Level.objects.order_by("threshold").values_list("name", "threshold"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("A", 0), ("B", 0)], "same threshold"),
        ([("A", 0), ("a", 10)], "same name"),
        ([("A", 10), ("B", 20)], "must start at 0"),
        ([], "at least one level"),
    ],
)
def test_levels_save_refuses_a_bad_ladder_and_changes_nothing(levels, rows, message) -> None:
    before = _ladder()
    existing = [
        LevelRow(id=lv.pk, name=lv.name, threshold=lv.threshold, delete=True) for lv in levels
    ]
    with pytest.raises(ValidationError) as error:
        progress.levels_save(rows=[*existing, *(LevelRow(None, n, t) for n, t in rows)])
    assert message in " ".join(error.value.messages)
    assert _ladder() == before


def test_levels_save_can_swap_thresholds_rename_add_and_delete(levels) -> None:
    insider, adv, champion, legend = levels
    progress.levels_save(
        rows=[
            LevelRow(insider.pk, "Newcomer", 0),
            LevelRow(adv.pk, "Advocate", 2000),  # takes Champion's threshold...
            LevelRow(champion.pk, "Champion", 500),  # ...which takes Advocate's
            LevelRow(legend.pk, "Legend", 5000, delete=True),
            LevelRow(None, "Hall of fame", 10000),
        ]
    )
    assert _ladder() == [
        ("Newcomer", 0),
        ("Champion", 500),
        ("Advocate", 2000),
        ("Hall of fame", 10000),
    ]


def test_a_level_used_by_a_challenge_cannot_be_deleted(levels) -> None:
    Challenge.objects.create(
        title="Champions only",
        kind=Challenge.Kind.TESTIMONIAL,
        points=5,
        audience=Challenge.Audience.LEVEL,
        audience_level=levels[2],
    )
    with pytest.raises(ValidationError, match="cannot be deleted"):
        progress.levels_save(rows=[LevelRow(levels[2].pk, "Champion", 2000, delete=True)])
    assert len(_ladder()) == 4


def test_badges_save_refuses_duplicates_and_deleting_a_held_badge(advocate) -> None:
    held = badge(Badge.Rule.FIRST_CHALLENGE, name="First step")
    AdvocateBadge.objects.create(advocate=advocate, badge=held)
    row = BadgeRow(held.pk, "First step", "", Badge.Rule.FIRST_CHALLENGE, 1, "🚀")
    with pytest.raises(ValidationError, match="same name"):
        progress.badges_save(rows=[row, BadgeRow(None, "first STEP", "", "reviews", 2, "")])
    with pytest.raises(ValidationError, match="advocates hold it"):
        progress.badges_save(rows=[BadgeRow(**{**row.__dict__, "delete": True})])
    assert list(Badge.objects.values_list("name", flat=True)) == ["First step"]


def test_load_progress_is_idempotent(advocate) -> None:
    progress.load_progress(_Sink())
    progress.load_progress(_Sink())
    assert Level.objects.count() == len(progress.DEFAULT_LEVELS)
    assert Badge.objects.count() == len(progress.DEFAULT_BADGES)
    assert LevelAchievement.objects.filter(advocate=advocate, level__threshold=0).count() == 1


class _Sink:
    def write(self, text: str) -> None:
        pass


# --- Pages ----------------------------------------------------------------------------


def test_levels_page_suggests_the_defaults_and_saves_them(manager_client) -> None:
    url = reverse("challenges:levels")
    page = manager_client.get(url).content.decode()
    assert "No levels are set up yet" in page
    assert 'value="Champion"' in page

    # As the browser sends it: the four suggested rows (Legend ticked for deletion and
    # cleared) and the empty extra row.
    data = _level_post(
        [("Insider", 0), ("Advocate", 500), ("Champion", 2000), ("", ""), ("", "")], initial=4
    )
    data["levels-3-DELETE"] = "on"
    response = manager_client.post(url, data)
    assert response.status_code == 302
    assert _ladder() == [("Insider", 0), ("Advocate", 500), ("Champion", 2000)]


def test_levels_page_shows_why_a_ladder_is_refused(manager_client, levels) -> None:
    before = _ladder()
    data = _level_post([(lv.name, lv.threshold, lv.pk) for lv in levels] + [("Duplicate", 500)])
    response = manager_client.post(reverse("challenges:levels"), data)
    assert response.status_code == 200
    assert "same threshold" in response.content.decode()
    assert _ladder() == before


def test_levels_page_adds_a_badge(manager_client) -> None:
    data = {
        "badges-TOTAL_FORMS": "1",
        "badges-INITIAL_FORMS": "0",
        "badges-0-icon": "🎤",
        "badges-0-name": "Speaker",
        "badges-0-description": "Spoke at an event.",
        "badges-0-rule": Badge.Rule.CHALLENGES,
        "badges-0-count": "2",
        "save_badges": "1",
    }
    assert manager_client.post(reverse("challenges:levels"), data).status_code == 302
    assert Badge.objects.get().name == "Speaker"


def _level_post(rows: list[tuple], initial: int | None = None) -> dict[str, str]:
    data = {
        "levels-TOTAL_FORMS": str(len(rows)),
        "levels-INITIAL_FORMS": str(
            initial if initial is not None else sum(1 for row in rows if len(row) > 2)
        ),
        "save_levels": "1",
    }
    for index, row in enumerate(rows):
        data[f"levels-{index}-name"] = str(row[0])
        data[f"levels-{index}-threshold"] = str(row[1])
        if len(row) > 2:
            data[f"levels-{index}-id"] = str(row[2])
    return data


def test_hub_shows_level_progress_badges_and_news(levels, advocate, advocate_client) -> None:
    badge(Badge.Rule.FIRST_CHALLENGE, name="First step")
    award(advocate, 600, "a:1")
    approved(advocate)
    on_activity(advocate_id=advocate.pk)

    page = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "Advocate</span>" in page
    assert "1,400 points to <strong>Champion</strong>" in page
    assert "First step" in page
    assert "You reached the Advocate level!" in page
    assert "Mark all read" in page


def test_marking_notifications_read_empties_the_list(
    levels, advocate, advocate_client, htmx_headers
) -> None:
    award(advocate, 600, "a:1")
    on_activity(advocate_id=advocate.pk)
    url = reverse("challenges:notifications_read")

    response = advocate_client.post(url, **htmx_headers)
    body = response.content.decode()
    assert "all caught up" in body
    assert "<html" not in body
    assert not Notification.objects.filter(advocate=advocate, read_at__isnull=True).exists()
    page = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "You reached the Advocate level!" not in page


def test_marking_read_without_javascript_goes_back_to_the_hub(advocate_client) -> None:
    response = advocate_client.post(reverse("challenges:notifications_read"))
    assert response.status_code == 302
    assert response.url == reverse("advocates:hub")


def test_another_advocates_notifications_stay_unread(
    levels, advocate, other_advocate, other_advocate_client
) -> None:
    award(advocate, 600, "a:1")
    on_activity(advocate_id=advocate.pk)
    other_advocate_client.post(reverse("challenges:notifications_read"))
    assert Notification.objects.filter(advocate=advocate, read_at__isnull=True).count() == 1


def test_profile_and_manager_view_show_level_and_badges(
    levels, advocate, advocate_client, manager_client
) -> None:
    badge(Badge.Rule.FIRST_CHALLENGE, name="First step")
    award(advocate, 2100, "a:1")
    approved(advocate)
    on_activity(advocate_id=advocate.pk)
    for client, url in [
        (advocate_client, reverse("advocates:profile")),
        (manager_client, reverse("advocates:detail", args=[advocate.pk])),
    ]:
        page = client.get(url).content.decode()
        assert "Champion</span>" in page
        assert "First step" in page


def test_hub_query_count_does_not_grow_with_badges_and_news(
    levels, advocate, advocate_client, django_assert_max_num_queries
) -> None:
    def count() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            advocate_client.get(reverse("advocates:hub"))
        return len(ctx.captured_queries)

    badge(Badge.Rule.FIRST_CHALLENGE, name="one")
    approved(advocate)
    on_activity(advocate_id=advocate.pk)
    count()  # the first request warms per-process caches (content types, ...)
    few = count()
    for n in range(6):
        badge(Badge.Rule.CHALLENGES, count=1, name=f"b{n}")
        Notification.objects.create(advocate=advocate, message=f"n{n}")
    on_activity(advocate_id=advocate.pk)
    assert count() == few
