"""The challenge list and the leaderboards are cached per advocate (core.fragments): a
second visit costs the signed-in floor, and each change made through a service shows on
the next visit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from challenges.models import Challenge, Submission
from challenges.services import challenge_publish, submission_approve
from rewards.services.ledger import points_award
from tests import factories
from tests.challenges.factories import ChallengeFactory, LevelFactory, SubmissionFactory
from tests.fragments import assert_a_hit_costs_the_floor, one_minute

pytestmark = pytest.mark.django_db

LIST = reverse("challenges:list")
BOARD = reverse("challenges:leaderboard")
PERIODS = ("week", "month", "all")


def html(client, url: str, **headers: str) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def award(advocate, amount: int, key: str) -> None:
    points_award(advocate_id=advocate.pk, amount=amount, reason="test", idempotency_key=key)


# --- The challenge list -------------------------------------------------------------------


def test_the_list_costs_the_floor_on_a_second_visit(settings, advocate_client) -> None:
    ChallengeFactory.create_batch(3)
    assert_a_hit_costs_the_floor(settings, advocate_client, LIST)


def test_an_approved_submission_shows_on_the_next_visit(
    advocate, advocate_client, manager, django_capture_on_commit_callbacks
) -> None:
    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(title="Quote us"))
    with one_minute():
        assert "Waiting for review" in html(advocate_client, LIST)
        with django_capture_on_commit_callbacks(execute=True):
            submission_approve(submission_id=submission.pk, reviewer=manager)
        page = html(advocate_client, LIST)
    assert Submission.objects.get().status == Submission.Status.APPROVED
    assert "Waiting for review" not in page
    assert "Approved" in page


def test_a_published_challenge_shows_on_the_next_visit(
    advocate_client, manager, django_capture_on_commit_callbacks
) -> None:
    draft = ChallengeFactory(title="Brand new one", status=Challenge.Status.DRAFT)
    with one_minute():
        assert "Brand new one" not in html(advocate_client, LIST)
        with django_capture_on_commit_callbacks(execute=True):
            challenge_publish(challenge_id=draft.pk, by=manager)
        assert "Brand new one" in html(advocate_client, LIST)


def test_reaching_a_level_opens_its_challenges_on_the_next_visit(
    advocate, advocate_client, django_capture_on_commit_callbacks
) -> None:
    ChallengeFactory(
        title="For insiders",
        audience=Challenge.Audience.LEVEL,
        audience_level=LevelFactory(name="Insider", threshold=100),
    )
    with one_minute():
        assert "For insiders" not in html(advocate_client, LIST)
        with django_capture_on_commit_callbacks(execute=True):
            award(advocate, 150, "level-up")
        assert "For insiders" in html(advocate_client, LIST)


def test_each_advocate_sees_their_own_list(
    advocate_client, other_advocate, other_advocate_client
) -> None:
    SubmissionFactory(advocate=other_advocate, challenge=ChallengeFactory(title="Otto did it"))
    with one_minute():
        assert "Waiting for review" in html(other_advocate_client, LIST)
        page = html(advocate_client, LIST)
    assert "Otto did it" in page  # open to me too
    assert "Waiting for review" not in page
    assert "Nothing yet" in page


# --- The leaderboards ---------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_a_board_costs_the_floor_on_a_second_visit(
    settings, advocate, advocate_client, other_advocate, period
) -> None:
    award(advocate, 40, "me")
    award(other_advocate, 70, "otto")
    assert_a_hit_costs_the_floor(settings, advocate_client, f"{BOARD}?period={period}")


@pytest.mark.parametrize("period", PERIODS)
def test_points_someone_else_earns_show_on_the_next_visit(
    advocate, advocate_client, other_advocate, django_capture_on_commit_callbacks, period
) -> None:
    award(advocate, 40, "me")
    url = f"{BOARD}?period={period}"
    with one_minute():
        before = html(advocate_client, url)
        assert "Otto" not in before
        assert "#1" in before  # my rank
        with django_capture_on_commit_callbacks(execute=True):
            award(other_advocate, 1234, "otto")
        after = html(advocate_client, url)
    assert "Otto" in after
    assert "1,234" in after
    assert "#2" in after  # my rank, overtaken


def test_my_own_points_show_on_the_next_visit(
    advocate, advocate_client, django_capture_on_commit_callbacks
) -> None:
    with one_minute():
        assert "No points this week yet" in html(advocate_client, BOARD)
        with django_capture_on_commit_callbacks(execute=True):
            award(advocate, 321, "mine")
        page = html(advocate_client, BOARD)
    assert "No points this week yet" not in page
    assert "321" in page


def test_a_renamed_advocate_shows_their_new_name_on_the_next_visit(
    advocate, advocate_client, other_advocate
) -> None:
    award(other_advocate, 50, "otto")
    with one_minute():
        assert "Otto" in html(advocate_client, BOARD)
        # As the admin saves it: nobody's points change.
        other_advocate.user.first_name = "Ottoline"
        other_advocate.user.save(update_fields=["first_name"])
        assert "Ottoline" in html(advocate_client, BOARD)


def test_an_opt_out_leaves_the_board_on_the_next_visit(
    advocate, advocate_client, other_advocate, django_capture_on_commit_callbacks
) -> None:
    from advocates.services import advocate_profile_update

    award(other_advocate, 50, "otto")
    with one_minute():
        assert "Otto" in html(advocate_client, BOARD)
        with django_capture_on_commit_callbacks(execute=True):
            advocate_profile_update(advocate=other_advocate, data={"leaderboard_opt_out": True})
        assert "Otto" not in html(advocate_client, BOARD)


def test_htmx_gets_only_the_board_and_the_full_page_stays_whole(
    advocate, advocate_client, other_advocate, htmx_headers, django_capture_on_commit_callbacks
) -> None:
    url = f"{BOARD}?period=all"
    with one_minute():
        assert "<html" in html(advocate_client, url)
        partial = html(advocate_client, url, **htmx_headers)
        assert "<html" not in partial
        assert partial.lstrip().startswith('<div id="board"')
        assert "<html" in html(advocate_client, url)  # not the cached board alone
        with django_capture_on_commit_callbacks(execute=True):
            award(other_advocate, 77, "otto")
        assert "Otto" in html(advocate_client, url, **htmx_headers)


def test_a_tag_board_shows_a_newly_tagged_advocate_at_once(
    advocate, advocate_client, other_advocate
) -> None:
    tag = factories.TagFactory(name="Partners")
    award(other_advocate, 50, "otto")
    url = f"{BOARD}?period=all&tag={tag.pk}"
    with one_minute():
        assert "Otto" not in html(advocate_client, url)
        other_advocate.tags.add(tag)  # as advocate_profile_update sets them
        assert "Otto" in html(advocate_client, url)


def test_a_manager_without_a_profile_sees_the_board(manager_client, other_advocate) -> None:
    award(other_advocate, 50, "otto")
    page = html(manager_client, BOARD)
    assert "Otto" in page
    assert "Your rank" not in page
