"""Groups in challenges: a challenge for a group's members, and a group's own leaderboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from advocates.models import GroupMembership
from challenges.models import Challenge, Submission
from challenges.selectors import challenges_open_to
from challenges.selectors.leaderboards import Period, leaderboard
from challenges.services import SubmissionInput, SubmissionRefused, submission_create
from rewards.services.ledger import points_award
from tests import factories
from tests.challenges.factories import ChallengeFactory

pytestmark = pytest.mark.django_db


def award(advocate, amount: int) -> None:
    points_award(
        advocate_id=advocate.pk,
        amount=amount,
        reason="test",
        idempotency_key=f"t:{advocate.pk}:{amount}",
    )


def person(name: str, points: int = 0, **extra):
    first, _, last = name.partition(" ")
    advocate = factories.AdvocateFactory(user__first_name=first, user__last_name=last, **extra)
    if points:
        award(advocate, points)
        advocate.refresh_from_db()
    return advocate


# --- Challenges for a group ---------------------------------------------------------------


def test_a_group_challenge_is_listed_and_completed_only_by_members(advocate, advocate_client):
    group = factories.GroupFactory(name="Beta")
    for_group = ChallengeFactory(
        title="Try the beta", audience=Challenge.Audience.GROUP, audience_group=group
    )
    assert for_group not in challenges_open_to(advocate)
    assert "Try the beta" not in advocate_client.get(reverse("challenges:list")).content.decode()
    with pytest.raises(SubmissionRefused, match="members of a group"):
        submission_create(
            challenge_id=for_group.pk, advocate_id=advocate.pk, data=SubmissionInput(text="hi")
        )
    assert not Submission.objects.exists()

    factories.GroupMembershipFactory(group=group, advocate=advocate)
    assert for_group in challenges_open_to(advocate)
    assert "Try the beta" in advocate_client.get(reverse("challenges:list")).content.decode()
    submission_create(
        challenge_id=for_group.pk, advocate_id=advocate.pk, data=SubmissionInput(text="hi")
    )
    assert Submission.objects.filter(advocate=advocate, challenge=for_group).exists()


def test_a_pending_request_is_not_membership(advocate) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(
        group=group, advocate=advocate, status=GroupMembership.Status.PENDING
    )
    challenge = ChallengeFactory(audience=Challenge.Audience.GROUP, audience_group=group)
    assert challenge not in challenges_open_to(advocate)


def test_detail_explains_a_group_challenge_not_for_me(advocate_client) -> None:
    challenge = ChallengeFactory(
        audience=Challenge.Audience.GROUP, audience_group=factories.GroupFactory()
    )
    page = advocate_client.get(reverse("challenges:detail", args=[challenge.pk]))
    assert "members of a group you are not in" in page.content.decode()


def test_manager_targets_a_challenge_at_a_group(manager_client) -> None:
    group = factories.GroupFactory(name="APAC")
    data = {
        "title": "APAC meetup",
        "description": "Come along",
        "kind": Challenge.Kind.TESTIMONIAL,
        "points": "50",
        "starts_at": "2026-01-01T09:00",
        "completion_limit": "1",
        "audience": Challenge.Audience.GROUP,
    }
    refused = manager_client.post(reverse("challenges:create"), data)
    assert "Choose the group" in refused.content.decode()
    assert not Challenge.objects.exists()
    manager_client.post(reverse("challenges:create"), {**data, "audience_group": group.pk})
    assert Challenge.objects.get().audience_group == group


# --- A group's leaderboard ----------------------------------------------------------------


def test_group_board_ranks_only_members_and_honours_opt_out() -> None:
    group = factories.GroupFactory()
    me = person("Mia Member", 100)
    top = person("Tom Top", 500)
    shy = person("Sam Shy", 900, leaderboard_opt_out=True)
    person("Otto Outsider", 1000)
    asking = person("Ada Asking", 800)
    for advocate in (me, top, shy):
        factories.GroupMembershipFactory(group=group, advocate=advocate)
    factories.GroupMembershipFactory(
        group=group, advocate=asking, status=GroupMembership.Status.PENDING
    )

    board = leaderboard(period=Period.ALL, group=group, viewer=me)
    assert [(row.name, row.rank) for row in board.rows] == [("Tom Top", 1), ("Mia Member", 2)]
    assert board.me is not None
    assert board.me.rank == 2

    shy_board = leaderboard(period=Period.ALL, group=group, viewer=shy)
    assert shy_board.me is not None
    assert shy_board.me.hidden
    assert shy_board.me.rank is None


def test_group_board_week_reads_period_points() -> None:
    group = factories.GroupFactory()
    member = person("Mo Member", 30)
    person("Nina Nonmember", 300)
    factories.GroupMembershipFactory(group=group, advocate=member)
    board = leaderboard(period=Period.WEEK, group=group, viewer=member)
    assert [row.name for row in board.rows] == ["Mo Member"]


def test_non_member_cannot_see_a_group_leaderboard(advocate_client, other_advocate) -> None:
    group = factories.GroupFactory(name="Closed circle")
    factories.GroupMembershipFactory(group=group, advocate=other_advocate)
    url = reverse("challenges:group_leaderboard", kwargs={"pk": group.pk})
    assert advocate_client.get(url).status_code == 404


def test_member_and_manager_see_the_group_leaderboard(
    advocate, advocate_client, manager_client, htmx_headers
) -> None:
    group = factories.GroupFactory(name="Closed circle")
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    award(advocate, 40)
    url = reverse("challenges:group_leaderboard", kwargs={"pk": group.pk})
    page = advocate_client.get(url, {"period": "all"}).content.decode()
    assert "Closed circle leaderboard" in page
    assert "Your rank" in page
    fragment = advocate_client.get(url, {"period": "week"}, **htmx_headers).content.decode()
    assert "<html" not in fragment
    assert url in fragment
    assert manager_client.get(url).status_code == 200


def test_an_archived_group_board_is_gone_for_members(advocate, advocate_client) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    group.archived_at = group.created_at
    group.save()
    url = reverse("challenges:group_leaderboard", kwargs={"pk": group.pk})
    assert advocate_client.get(url).status_code == 404


def test_group_board_query_count_does_not_grow_with_members(
    advocate, advocate_client, django_assert_max_num_queries
) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    award(advocate, 1)
    url = reverse("challenges:group_leaderboard", kwargs={"pk": group.pk})

    def add(n: int) -> None:
        for index in range(n):
            factories.GroupMembershipFactory(group=group, advocate=person(f"Some One{index}", 10))

    add(3)
    advocate_client.get(url, {"period": "all"})
    with django_assert_max_num_queries(20) as few:
        advocate_client.get(url, {"period": "all"})
    add(25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = advocate_client.get(url, {"period": "all"})
    assert len(response.context["board"].rows) == 20
