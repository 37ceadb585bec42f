"""The advocate's side: open challenges, completing one in place (htmx) or by a plain
POST, what I did, and the refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges.models import Challenge, NPSResponse, Submission
from rewards.models import LedgerEntry
from tests.challenges.factories import ChallengeFactory, LevelFactory, SubmissionFactory
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def test_list_shows_only_challenges_open_to_me_ending_soonest_first(
    advocate, advocate_client
) -> None:
    now = timezone.now()
    later = ChallengeFactory(title="Ends later", ends_at=now + timedelta(days=9))
    soon = ChallengeFactory(title="Ends soon", ends_at=now + timedelta(days=1))
    open_ended = ChallengeFactory(title="Open ended", ends_at=None)
    ChallengeFactory(
        title="Expired one", ends_at=now - timedelta(minutes=1), starts_at=now - timedelta(days=2)
    )
    ChallengeFactory(title="Draft one", status=Challenge.Status.DRAFT)
    ChallengeFactory(title="Archived one", status=Challenge.Status.ARCHIVED)
    ChallengeFactory(title="Future one", starts_at=now + timedelta(days=1), ends_at=None)
    ChallengeFactory(
        title="Tagged for others", audience=Challenge.Audience.TAG, audience_tag=TagFactory()
    )
    ChallengeFactory(
        title="Legends only",
        audience=Challenge.Audience.LEVEL,
        audience_level=LevelFactory(name="Legend", threshold=10_000),
    )
    done = ChallengeFactory(title="Already done")
    SubmissionFactory(challenge=done, advocate=advocate)

    response = advocate_client.get(reverse("challenges:list"))
    assert response.status_code == 200
    html = body(response)
    for hidden in (
        "Expired one",
        "Draft one",
        "Archived one",
        "Future one",
        "Tagged for others",
        "Legends only",
    ):
        assert hidden not in html
    assert [card["challenge"].title for card in response.context["cards"]] == [
        soon.title,
        later.title,
        open_ended.title,
    ]
    # What I did lists it with its status.
    assert "Already done" in html
    assert "Waiting for review" in html


def test_what_i_did_shows_the_rejection_reason(advocate, advocate_client, manager) -> None:
    from challenges.services import submission_reject

    submission = SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(title="Quote us"))
    submission_reject(submission_id=submission.pk, reviewer=manager, reason="Please add your role")
    html = body(advocate_client.get(reverse("challenges:list")))
    assert "Not approved" in html
    assert "Please add your role" in html


def test_complete_in_place_with_htmx_returns_only_the_card(
    advocate, advocate_client, htmx_headers
) -> None:
    challenge = ChallengeFactory(kind=Challenge.Kind.SOCIAL_SHARE, title="Share it")
    prefix = f"c{challenge.pk}"
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"{prefix}-url": "https://linkedin.example/post/1"},
        **htmx_headers,
    )
    assert response.status_code == 200
    html = body(response)
    assert "<html" not in html
    assert f'id="challenge-{challenge.pk}"' in html
    assert "Submitted." in html
    submission = Submission.objects.get()
    assert submission.url == "https://linkedin.example/post/1"
    assert submission.advocate == advocate


def test_auto_approved_card_says_done_with_the_points(
    advocate, advocate_client, htmx_headers
) -> None:
    challenge = ChallengeFactory(auto_approve=True, points=30)
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"c{challenge.pk}-text": "Loved it"},
        **htmx_headers,
    )
    assert "Done!" in body(response)
    assert "+30" in body(response)
    advocate.refresh_from_db()
    assert advocate.balance == 30


def test_without_javascript_a_plain_post_redirects_with_a_message(
    advocate, advocate_client
) -> None:
    challenge = ChallengeFactory(title="Answer me")
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"c{challenge.pk}-text": "Here is my answer"},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("challenges:list"), 302)]
    assert "waiting for review" in body(response)
    assert Submission.objects.filter(advocate=advocate, challenge=challenge).count() == 1


def test_invalid_input_shows_the_form_again_and_records_nothing(
    advocate_client, htmx_headers
) -> None:
    challenge = ChallengeFactory(kind=Challenge.Kind.SOCIAL_SHARE)
    url = reverse("challenges:submit", args=[challenge.pk])
    response = advocate_client.post(url, {f"c{challenge.pk}-url": "not a url"}, **htmx_headers)
    assert response.status_code == 200
    assert "Enter a valid URL" in body(response)
    assert "<html" not in body(response)
    response = advocate_client.post(url, {f"c{challenge.pk}-url": ""})
    assert response.status_code == 400
    assert "This field is required" in body(response)
    assert "<html" in body(response)
    assert not Submission.objects.exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_expired_challenge_gives_a_clear_message_and_records_nothing(
    advocate, advocate_client, htmx, htmx_headers
) -> None:
    challenge = ChallengeFactory(auto_approve=True)
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    headers = htmx_headers if htmx else {}
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"c{challenge.pk}-text": "late"},
        follow=not htmx,
        **headers,
    )
    assert "it no longer takes submissions" in body(response)
    assert not Submission.objects.exists()
    assert not LedgerEntry.objects.exists()
    advocate.refresh_from_db()
    assert advocate.balance == 0


def test_over_limit_double_submit_is_refused_in_place(
    advocate, advocate_client, htmx_headers
) -> None:
    challenge = ChallengeFactory(auto_approve=True, points=25)
    url = reverse("challenges:submit", args=[challenge.pk])
    data = {f"c{challenge.pk}-text": "twice"}
    advocate_client.post(url, data, **htmx_headers)
    response = advocate_client.post(url, data, **htmx_headers)
    assert "already completed" in body(response)
    assert Submission.objects.count() == 1
    advocate.refresh_from_db()
    assert advocate.balance == 25


def test_a_draft_challenge_is_a_404(advocate_client) -> None:
    challenge = ChallengeFactory(status=Challenge.Status.DRAFT)
    assert advocate_client.get(reverse("challenges:detail", args=[challenge.pk])).status_code == 404
    response = advocate_client.post(reverse("challenges:submit", args=[challenge.pk]), {})
    assert response.status_code == 404


def test_detail_explains_a_challenge_not_for_me(advocate_client) -> None:
    challenge = ChallengeFactory(audience=Challenge.Audience.TAG, audience_tag=TagFactory())
    response = advocate_client.get(reverse("challenges:detail", args=[challenge.pk]))
    assert response.status_code == 200
    assert "for another group of advocates" in body(response)
    assert "<form" not in body(response).split('id="challenge-')[1].split("</article>")[0]


def test_upload_in_place_stores_the_image(advocate, advocate_client, htmx_headers) -> None:
    from tests.challenges.test_submission_services import png_upload

    challenge = ChallengeFactory(kind=Challenge.Kind.UPLOAD)
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"c{challenge.pk}-image": png_upload()},
        **htmx_headers,
    )
    assert "Submitted." in body(response)
    assert Submission.objects.get().image.name.startswith("submissions/")


def test_survey_with_nps_by_form(advocate, advocate_client) -> None:
    challenge = ChallengeFactory(
        kind=Challenge.Kind.SURVEY,
        auto_approve=True,
        questions=[
            {"label": "How likely are you to recommend us?", "kind": "nps"},
            {"label": "What next?", "kind": "text"},
        ],
    )
    p = f"c{challenge.pk}"
    page = body(advocate_client.get(reverse("challenges:list")))
    assert "How likely are you to recommend us?" in page
    advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"{p}-nps_score": "10", f"{p}-nps_comment": "Fast support", f"{p}-q1": "Dark mode"},
    )
    response = NPSResponse.objects.get()
    assert (response.score, response.comment, response.advocate) == (10, "Fast support", advocate)
    submission = Submission.objects.get()
    assert submission.answers["questions"][1] == {"label": "What next?", "answer": "Dark mode"}


def test_event_rsvp_needs_the_tick(advocate, advocate_client, htmx_headers) -> None:
    challenge = ChallengeFactory(
        kind=Challenge.Kind.EVENT, event_at=timezone.now() + timedelta(days=3)
    )
    url = reverse("challenges:submit", args=[challenge.pk])
    response = advocate_client.post(url, {}, **htmx_headers)
    assert "RSVP" in body(response)
    assert not Submission.objects.exists()
    advocate_client.post(url, {f"c{challenge.pk}-rsvp": "on"}, **htmx_headers)
    assert Submission.objects.get().answers == {"rsvp": True}


def test_an_events_unfold_and_send_controls_have_different_names(advocate_client) -> None:
    ChallengeFactory(kind=Challenge.Kind.EVENT, event_at=timezone.now() + timedelta(days=3))
    page = body(advocate_client.get(reverse("challenges:list")))
    # A screen reader lists both controls: two "RSVP"s would not say which one sends.
    assert ">RSVP</summary>" in page
    assert '<button class="btn" type="submit">Confirm my RSVP</button>' in page


def test_my_submission_page_and_another_advocates_is_a_404(
    advocate, other_advocate, advocate_client
) -> None:
    mine = SubmissionFactory(advocate=advocate, text="My words")
    theirs = SubmissionFactory(advocate=other_advocate, text="Their words")
    response = advocate_client.get(reverse("challenges:submission", args=[mine.pk]))
    assert "My words" in body(response)
    assert (
        advocate_client.get(reverse("challenges:submission", args=[theirs.pk])).status_code == 404
    )


def test_list_query_count_does_not_grow_with_rows(
    advocate, other_advocate, advocate_client, django_assert_max_num_queries
) -> None:
    tag = TagFactory()
    advocate.tags.add(tag)
    level = LevelFactory(name="Insider", threshold=0)
    for _n in range(4):
        ChallengeFactory(kind=Challenge.Kind.SURVEY, questions=[{"label": "Q", "kind": "nps"}])
        ChallengeFactory(audience=Challenge.Audience.TAG, audience_tag=tag)
        ChallengeFactory(
            audience=Challenge.Audience.LEVEL, audience_level=level, completion_limit=3
        )
        challenge = ChallengeFactory(kind=Challenge.Kind.SOCIAL_SHARE, completion_limit=5)
        SubmissionFactory(challenge=challenge, advocate=advocate)
        SubmissionFactory(challenge=challenge, advocate=other_advocate)
    with django_assert_max_num_queries(12) as captured:
        response = advocate_client.get(reverse("challenges:list"))
    # 16 open to me, a page of them shown (each card carries its form).
    assert len(response.context["cards"]) == 12
    assert response.context["open_page"].paginator.count == 16
    few = len(captured.captured_queries)
    for _ in range(15):
        ChallengeFactory()
        SubmissionFactory(advocate=advocate)
    with django_assert_max_num_queries(few):
        advocate_client.get(reverse("challenges:list"))


def test_open_challenges_are_paged_and_page_two_shows_the_rest(advocate, advocate_client) -> None:
    now = timezone.now()
    titles = [f"Paged challenge {n:02d}" for n in range(15)]
    for n, title in enumerate(titles):  # ending soonest first: 00, 01, ... 14
        ChallengeFactory(title=title, ends_at=now + timedelta(days=n + 1))
    for _n in range(11):  # 11 of mine in "What I did": two pages of 10
        SubmissionFactory(advocate=advocate, challenge=ChallengeFactory(ends_at=now))
    url = reverse("challenges:list")

    first = advocate_client.get(url)
    html = body(first)
    assert [c["challenge"].title for c in first.context["cards"]] == titles[:12]
    assert "Paged challenge 12" not in html
    assert 'href="?open=2"' in html  # a plain link: paging works without JavaScript
    assert 'href="?page=2"' in html  # "What I did" pages on its own

    second = advocate_client.get(url, {"open": "2"})
    html = body(second)
    assert [c["challenge"].title for c in second.context["cards"]] == titles[12:]
    assert "Paged challenge 00" not in html
    assert (
        'action="{}"'.format(
            reverse("challenges:submit", args=[second.context["cards"][0]["challenge"].pk])
        )
        in html
    )
    assert 'href="?open=1"' in html
    # Paging "What I did" keeps the open challenges' page, and the other way round.
    assert 'href="?open=2&amp;page=2"' in html
    both = body(advocate_client.get(url, {"open": "2", "page": "2"}))
    assert 'href="?page=2&amp;open=1"' in both
    assert 'href="?open=2&amp;page=1"' in both
    # A page past the end shows the last one, not an error.
    assert advocate_client.get(url, {"open": "99"}).context["open_page"].number == 2


def test_completing_on_page_two_keeps_that_page_in_what_i_did_links(
    advocate, advocate_client, htmx_headers
) -> None:
    for _n in range(11):
        SubmissionFactory(advocate=advocate)
    challenge = ChallengeFactory(title="Late one")
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"c{challenge.pk}-text": "Done"},
        HTTP_HX_CURRENT_URL="http://testserver" + reverse("challenges:list") + "?open=2",
        **htmx_headers,
    )
    html = body(response)
    assert 'id="done" hx-swap-oob="true"' in html
    assert 'href="?open=2&amp;page=2"' in html


def test_hub_shows_up_to_three_open_challenges_and_a_link(advocate, advocate_client) -> None:
    for n in range(5):
        ChallengeFactory(title=f"Hub challenge {n}")
    html = body(advocate_client.get(reverse("advocates:hub")))
    assert html.count("Hub challenge") == 3
    assert reverse("challenges:list") in html


def test_completing_from_the_list_refreshes_what_i_did_out_of_band(
    advocate, advocate_client, htmx_headers
) -> None:
    challenge = ChallengeFactory(title="Tell us more")
    list_url = "http://testserver" + reverse("challenges:list")
    response = advocate_client.post(
        reverse("challenges:submit", args=[challenge.pk]),
        {f"c{challenge.pk}-text": "More"},
        HTTP_HX_CURRENT_URL=list_url,
        **htmx_headers,
    )
    html = body(response)
    assert 'id="done" hx-swap-oob="true"' in html
    assert html.count("Tell us more") >= 2  # the card and the new row in "What I did"
    # From the detail page there is no "What I did" to refresh.
    other = ChallengeFactory()
    response = advocate_client.post(
        reverse("challenges:submit", args=[other.pk]),
        {f"c{other.pk}-text": "More"},
        HTTP_HX_CURRENT_URL="http://testserver" + reverse("challenges:detail", args=[other.pk]),
        **htmx_headers,
    )
    assert "hx-swap-oob" not in body(response)
