"""The community pages as advocates and managers use them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from discussions.models import Thread
from tests import factories
from tests.discussions.factories import ReplyFactory, ThreadFactory

pytestmark = pytest.mark.django_db

HOSTILE = (
    "<script>alert(1)</script>\n\n"
    "[click](javascript:alert(1))\n\n"
    '<img src=x onerror="alert(1)">\n\n'
    "[safe](https://example.com)"
)


def test_posting_a_question_shows_it_with_markdown(advocate_client) -> None:
    response = advocate_client.post(
        reverse("discussions:new"),
        {"kind": "question", "title": "Pilot or big bang?", "body": "Which **worked**?"},
    )
    thread = Thread.objects.get()
    assert response.status_code == 302
    page = advocate_client.get(reverse("discussions:thread", kwargs={"pk": thread.pk}))
    assert "<strong>worked</strong>" in page.content.decode()


def test_markdown_cannot_carry_script(advocate_client) -> None:
    advocate_client.post(
        reverse("discussions:new"), {"kind": "idea", "title": "XSS", "body": HOSTILE}
    )
    thread = Thread.objects.get()
    # Raw HTML stays text, the javascript: link is no link, no element has onerror.
    assert "<script" not in thread.body_html
    assert "&lt;script&gt;" in thread.body_html
    assert 'href="javascript' not in thread.body_html
    assert "<img" not in thread.body_html
    assert "&lt;img" in thread.body_html
    assert '<a href="https://example.com" rel="nofollow noopener">safe</a>' in thread.body_html
    page = advocate_client.get(reverse("discussions:thread", kwargs={"pk": thread.pk}))
    assert "<script>alert(1)</script>" not in page.content.decode()


def test_replying_with_htmx_returns_the_conversation(
    advocate, other_advocate_client, htmx_headers
) -> None:
    thread = ThreadFactory(author=advocate.user)
    response = other_advocate_client.post(
        reverse("discussions:reply", kwargs={"pk": thread.pk}),
        {"body": "Try a *pilot*"},
        **htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="conversation"')
    assert "<em>pilot</em>" in html
    assert "<html" not in html


def test_a_locked_thread_shows_no_reply_form_and_refuses_one(
    advocate, other_advocate_client, manager
) -> None:
    thread = ThreadFactory(author=advocate.user)
    from discussions import services
    from discussions.selectors import viewer_for

    services.thread_lock(viewer=viewer_for(manager), thread_id=thread.pk)
    url = reverse("discussions:thread", kwargs={"pk": thread.pk})
    assert "takes no more replies" in other_advocate_client.get(url).content.decode()
    response = other_advocate_client.post(
        reverse("discussions:reply", kwargs={"pk": thread.pk}), {"body": "Me too"}, follow=True
    )
    assert "locked" in response.content.decode()
    assert not thread.replies.exists()


def test_a_non_member_cannot_see_a_group_thread(advocate, other_advocate_client) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    thread = ThreadFactory(author=advocate.user, group=group, title="Members only")
    url = reverse("discussions:thread", kwargs={"pk": thread.pk})
    assert other_advocate_client.get(url).status_code == 404
    listing = other_advocate_client.get(reverse("discussions:list")).content.decode()
    assert "Members only" not in listing
    assert (
        other_advocate_client.get(reverse("discussions:list"), {"group": group.pk}).status_code
        == 404
    )


def test_a_hidden_reply_is_gone_for_advocates_and_greyed_for_managers(
    advocate, advocate_client, manager, manager_client
) -> None:
    thread = ThreadFactory(author=advocate.user)
    ReplyFactory(thread=thread, body="Rude words")
    reply = thread.replies.get()
    manager_client.post(reverse("discussions:reply_hide", kwargs={"pk": reply.pk}))
    url = reverse("discussions:thread", kwargs={"pk": thread.pk})
    assert "Rude words" not in advocate_client.get(url).content.decode()
    page = manager_client.get(url).content.decode()
    assert "Rude words" in page
    assert "is-hidden-post" in page
    assert "Hidden from advocates by" in page


def test_voting_with_htmx_swaps_the_button(advocate, other_advocate_client, htmx_headers) -> None:
    idea = ThreadFactory(author=advocate.user, kind=Thread.Kind.IDEA)
    url = reverse("discussions:vote", kwargs={"pk": idea.pk})
    html = other_advocate_client.post(url, **htmx_headers).content.decode()
    assert html.lstrip().startswith('<div id="vote">')
    assert 'aria-pressed="true"' in html
    html = other_advocate_client.post(url, **htmx_headers).content.decode()
    assert 'aria-pressed="false"' in html


def test_accepting_without_javascript_redirects_back(
    advocate, advocate_client, other_advocate
) -> None:
    thread = ThreadFactory(author=advocate.user)
    reply = ReplyFactory(thread=thread, author=other_advocate.user)
    response = advocate_client.post(reverse("discussions:accept", kwargs={"pk": reply.pk}))
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.accepted_reply == reply


def test_the_moderation_queue_lists_reports(
    advocate, other_advocate_client, manager_client
) -> None:
    thread = ThreadFactory(author=advocate.user, title="Spammy")
    other_advocate_client.post(
        reverse("discussions:report", kwargs={"pk": thread.pk}), {"reason": "Spam"}
    )
    page = manager_client.get(reverse("discussions:moderation")).content.decode()
    assert "Spammy" in page
    assert "Reason:</strong> Spam<" in page


def test_search_from_the_list(advocate, advocate_client) -> None:
    ThreadFactory(author=advocate.user, title="Rollout", body="Our SSO migration plan")
    ThreadFactory(author=advocate.user, title="Swag", body="Stickers")
    page = advocate_client.get(reverse("discussions:list"), {"q": "sso"}).content.decode()
    assert "Rollout" in page
    assert "Swag" not in page


@pytest.mark.parametrize("rows", [1, 12])
def test_the_list_query_count_does_not_grow(
    rows, advocate, advocate_client, django_assert_max_num_queries
) -> None:
    group = factories.GroupFactory()
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    for n in range(rows):
        ThreadFactory(
            group=group if n % 2 else None, kind=Thread.Kind.IDEA if n % 3 else "question"
        )
    advocate_client.get(reverse("discussions:list"))  # warm the session and settings
    with django_assert_max_num_queries(8):
        response = advocate_client.get(reverse("discussions:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 12])
def test_the_thread_query_count_does_not_grow(
    rows, advocate, advocate_client, manager_client, django_assert_max_num_queries
) -> None:
    thread = ThreadFactory(author=advocate.user)
    for _ in range(rows):
        ReplyFactory(thread=thread)
    url = reverse("discussions:thread", kwargs={"pk": thread.pk})
    advocate_client.get(url)
    with django_assert_max_num_queries(8):
        assert advocate_client.get(url).status_code == 200
    manager_client.get(url)
    with django_assert_max_num_queries(8):
        assert manager_client.get(url).status_code == 200


@pytest.mark.parametrize("rows", [1, 12])
def test_the_moderation_queue_query_count_does_not_grow(
    rows, manager_client, django_assert_max_num_queries
) -> None:
    from discussions.models import Report

    for _ in range(rows):
        reply = ReplyFactory()
        Report.objects.create(thread=reply.thread, reply=reply, reporter=reply.author, reason="x")
        Report.objects.create(thread=reply.thread, reporter=reply.author, reason="y")
    url = reverse("discussions:moderation")
    manager_client.get(url)
    with django_assert_max_num_queries(8):
        assert manager_client.get(url).status_code == 200
