"""The community's writes: posting, answers paid once through the ledger, votes, idea
status, mentions and moderation."""

from __future__ import annotations

import pytest

from advocates.models import Notification
from core.models import ProgramSettings
from discussions import services
from discussions.models import Report, Thread, Vote
from discussions.selectors import threads_for, viewer_for
from rewards.models import LedgerEntry
from tests import factories
from tests.discussions.factories import ReplyFactory, ThreadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def points():
    program = ProgramSettings.load()
    program.accepted_answer_points = 30
    program.save()
    return 30


def _ask(advocate, **kwargs) -> Thread:
    return services.thread_create(
        viewer=viewer_for(advocate.user),
        kind=kwargs.pop("kind", Thread.Kind.QUESTION),
        title=kwargs.pop("title", "How do you onboard a new team?"),
        body=kwargs.pop("body", "Looking for **tips**."),
        **kwargs,
    )


def _answer(advocate_or_user, thread: Thread, body: str = "Start with a pilot."):
    user = getattr(advocate_or_user, "user", advocate_or_user)
    return services.reply_create(viewer=viewer_for(user), thread_id=thread.pk, body=body)


def _balance(advocate) -> int:
    advocate.refresh_from_db()
    return advocate.balance


# --- Posting -------------------------------------------------------------------------------


def test_an_advocate_posts_and_the_author_hears_of_replies(advocate, other_advocate) -> None:
    thread = _ask(advocate)
    assert thread.body_html == "<p>Looking for <strong>tips</strong>.</p>\n"
    _answer(other_advocate, thread)
    thread.refresh_from_db()
    assert thread.reply_count == 1
    note = Notification.objects.get(advocate=advocate)
    assert "replied" in note.message
    assert note.url.startswith(f"/community/{thread.pk}/")


def test_an_empty_post_is_refused_and_nothing_is_saved(advocate) -> None:
    with pytest.raises(services.DiscussionError, match="title"):
        _ask(advocate, title="  ")
    assert not Thread.objects.exists()


def test_a_rep_cannot_post(rep) -> None:
    with pytest.raises(services.DiscussionError):
        services.thread_create(viewer=viewer_for(rep), kind="question", title="Hi", body="Hi")


def test_a_group_thread_is_for_its_members_only(advocate, other_advocate, manager) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    with pytest.raises(services.DiscussionError, match="member"):
        _ask(other_advocate, group_id=group.pk)
    thread = _ask(advocate, group_id=group.pk)
    assert list(threads_for(viewer_for(advocate.user))) == [thread]
    assert list(threads_for(viewer_for(other_advocate.user))) == []
    assert list(threads_for(viewer_for(manager))) == [thread]
    with pytest.raises(Thread.DoesNotExist):
        _answer(other_advocate, thread)


def test_a_locked_thread_refuses_replies(advocate, other_advocate, manager) -> None:
    thread = _ask(advocate)
    services.thread_lock(viewer=viewer_for(manager), thread_id=thread.pk)
    with pytest.raises(services.DiscussionError, match="locked"):
        _answer(other_advocate, thread)
    assert not thread.replies.exists()


def test_a_hidden_thread_is_gone_for_advocates_not_managers(advocate, manager) -> None:
    thread = _ask(advocate)
    services.thread_hide(viewer=viewer_for(manager), thread_id=thread.pk)
    assert not threads_for(viewer_for(advocate.user)).exists()
    assert threads_for(viewer_for(manager)).get().hidden_by == manager


# --- Accepted answers ------------------------------------------------------------------------


def test_accepting_pays_the_answerer_once(advocate, other_advocate, points) -> None:
    thread = _ask(advocate)
    reply = _answer(other_advocate, thread)
    asker = viewer_for(advocate.user)
    services.answer_accept(viewer=asker, reply_id=reply.pk)
    services.answer_accept(viewer=asker, reply_id=reply.pk)  # a double click
    assert _balance(other_advocate) == points
    assert LedgerEntry.objects.filter(advocate=other_advocate).count() == 1


def test_accepting_another_reply_moves_the_award(
    advocate, other_advocate, points, assert_ledger_consistent
) -> None:
    third = factories.AdvocateFactory()
    thread = _ask(advocate)
    first = _answer(other_advocate, thread)
    second = _answer(third, thread)
    asker = viewer_for(advocate.user)
    services.answer_accept(viewer=asker, reply_id=first.pk)
    services.answer_accept(viewer=asker, reply_id=second.pk)
    assert _balance(other_advocate) == 0
    assert _balance(third) == points
    reversal = LedgerEntry.objects.get(advocate=other_advocate, kind=LedgerEntry.Kind.REVERSAL)
    assert reversal.amount == -points
    # And back again: a new award, not a replay of the reversed one.
    services.answer_accept(viewer=asker, reply_id=first.pk)
    assert (_balance(other_advocate), _balance(third)) == (points, 0)
    assert_ledger_consistent()


def test_unaccepting_reverses_the_award(advocate, other_advocate, points) -> None:
    thread = _ask(advocate)
    reply = _answer(other_advocate, thread)
    asker = viewer_for(advocate.user)
    services.answer_accept(viewer=asker, reply_id=reply.pk)
    services.answer_unaccept(viewer=asker, thread_id=thread.pk)
    thread.refresh_from_db()
    assert thread.accepted_reply is None
    assert _balance(other_advocate) == 0
    assert other_advocate.lifetime_points == 0


def test_a_self_answer_pays_nothing(advocate, points) -> None:
    thread = _ask(advocate)
    reply = _answer(advocate, thread)
    services.answer_accept(viewer=viewer_for(advocate.user), reply_id=reply.pk)
    thread.refresh_from_db()
    assert thread.accepted_reply == reply
    assert _balance(advocate) == 0


def test_only_the_asker_or_a_manager_accepts(advocate, other_advocate, manager, points) -> None:
    thread = _ask(advocate)
    reply = _answer(other_advocate, thread)
    with pytest.raises(services.DiscussionError, match="asked"):
        services.answer_accept(viewer=viewer_for(other_advocate.user), reply_id=reply.pk)
    services.answer_accept(viewer=viewer_for(manager), reply_id=reply.pk)
    assert _balance(other_advocate) == points


def test_spent_points_keep_the_answer_where_it_is(advocate, other_advocate, points) -> None:
    from rewards.services.ledger import points_spend

    thread = _ask(advocate)
    reply = _answer(other_advocate, thread)
    asker = viewer_for(advocate.user)
    services.answer_accept(viewer=asker, reply_id=reply.pk)
    points_spend(advocate_id=other_advocate.pk, amount=points, reason="Mug", idempotency_key="m")
    with pytest.raises(services.DiscussionError, match="cannot be taken back"):
        services.answer_unaccept(viewer=asker, thread_id=thread.pk)
    thread.refresh_from_db()
    assert thread.accepted_reply == reply


# --- Ideas -------------------------------------------------------------------------------


def test_votes_toggle(advocate, other_advocate) -> None:
    idea = _ask(advocate, kind=Thread.Kind.IDEA)
    voter = viewer_for(other_advocate.user)
    assert services.vote_toggle(viewer=voter, thread_id=idea.pk) is True
    idea.refresh_from_db()
    assert idea.vote_count == 1
    assert services.vote_toggle(viewer=voter, thread_id=idea.pk) is False
    idea.refresh_from_db()
    assert idea.vote_count == 0
    assert not Vote.objects.exists()


def test_a_status_change_notifies_every_voter(advocate, other_advocate, manager) -> None:
    idea = _ask(advocate, kind=Thread.Kind.IDEA)
    for voter in (advocate, other_advocate):
        services.vote_toggle(viewer=viewer_for(voter.user), thread_id=idea.pk)
    services.idea_status_set(viewer=viewer_for(manager), thread_id=idea.pk, status="planned")
    notes = Notification.objects.filter(message__contains="is now planned")
    assert {note.advocate_id for note in notes} == {advocate.pk, other_advocate.pk}
    # The same status again tells no one twice.
    services.idea_status_set(viewer=viewer_for(manager), thread_id=idea.pk, status="planned")
    assert notes.count() == 2


# --- Mentions ----------------------------------------------------------------------------


def test_a_mention_notifies_the_advocate_with_a_link(advocate, other_advocate) -> None:
    thread = _ask(advocate, body="What do you think, @Otto? (not ada@example.com)")
    note = Notification.objects.get(advocate=other_advocate)
    assert "mentioned you" in note.message
    assert note.url == f"/community/{thread.pk}/"
    assert not Notification.objects.filter(advocate=advocate).exists()


def test_an_ambiguous_handle_notifies_no_one(advocate) -> None:
    factories.AdvocateFactory(user__email="sam@acme.com")
    factories.AdvocateFactory(user__email="sam@globex.com")
    _ask(advocate, body="Hello @sam")
    assert not Notification.objects.exists()


def test_no_one_is_told_of_a_group_thread_they_cannot_open(advocate, other_advocate) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    _ask(advocate, group_id=group.pk, body="@otto should see this")
    assert not Notification.objects.exists()


# --- Moderation ---------------------------------------------------------------------------


def test_report_then_hide_from_the_queue(advocate, other_advocate, manager) -> None:
    thread = _ask(advocate)
    reply = _answer(other_advocate, thread, body="Buy cheap watches")
    reporter = viewer_for(advocate.user)
    report = services.report_create(
        viewer=reporter, thread_id=thread.pk, reply_id=reply.pk, reason="Spam"
    )
    # Reporting twice keeps one open report.
    services.report_create(viewer=reporter, thread_id=thread.pk, reply_id=reply.pk, reason="!")
    assert Report.objects.count() == 1
    services.report_decide(viewer=viewer_for(manager), report_id=report.pk, action="hide")
    report.refresh_from_db()
    reply.refresh_from_db()
    assert report.resolution == Report.Resolution.HIDDEN
    assert reply.hidden_by == manager
    thread.refresh_from_db()
    assert thread.reply_count == 0


def test_a_dismissed_report_leaves_the_post(advocate, other_advocate, manager) -> None:
    thread = _ask(advocate)
    report = services.report_create(
        viewer=viewer_for(other_advocate.user), thread_id=thread.pk, reason="Rude"
    )
    services.report_decide(viewer=viewer_for(manager), report_id=report.pk, action="dismiss")
    thread.refresh_from_db()
    assert thread.hidden_at is None
    with pytest.raises(services.DiscussionError, match="already"):
        services.report_decide(viewer=viewer_for(manager), report_id=report.pk, action="hide")


def test_a_report_needs_a_reason(advocate, other_advocate) -> None:
    thread = ThreadFactory(author=advocate.user)
    with pytest.raises(services.DiscussionError, match="reason"):
        services.report_create(
            viewer=viewer_for(other_advocate.user), thread_id=thread.pk, reason=""
        )
    assert not Report.objects.exists()


def test_search_finds_by_body_text(advocate) -> None:
    wanted = ThreadFactory(author=advocate.user, title="Rollout", body="Our SSO migration plan")
    ThreadFactory(author=advocate.user, title="Other", body="Nothing here")
    with_reply = ReplyFactory(body="We also did an SSO migration", thread__author=advocate.user)
    found = set(threads_for(viewer_for(advocate.user), q="sso migration"))
    assert found == {wanted, with_reply.thread}


def test_hiding_the_accepted_answer_takes_its_award_back(
    advocate, other_advocate, manager, points
) -> None:
    thread = _ask(advocate)
    reply = _answer(other_advocate, thread, body="Spam that looked helpful")
    services.answer_accept(viewer=viewer_for(advocate.user), reply_id=reply.pk)
    services.reply_hide(viewer=viewer_for(manager), reply_id=reply.pk)
    thread.refresh_from_db()
    assert thread.accepted_reply is None
    assert _balance(other_advocate) == 0
