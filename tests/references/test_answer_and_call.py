"""The advocate's answer, the timeout sweep, the call, feedback and influenced revenue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from references import links, selectors, services
from references.matching import guard
from references.models import Ask, ReferenceRequest
from references.tasks import asks_expire_overdue
from rewards.models import LedgerEntry
from tests.factories import AdvocateFactory
from tests.references.factories import AskFactory, CandidateFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chosen(advocate, rep, django_capture_on_commit_callbacks):
    """The prospect picked ``advocate``; ``second`` and ``third`` are next on their list."""
    advocate.reference_opt_in = True
    advocate.save()
    request = ReferenceRequestFactory(
        rep=rep, status=ReferenceRequest.Status.WITH_PROSPECT, link_nonce="n"
    )
    first = CandidateFactory(request=request, advocate=advocate, rank=1)
    second = CandidateFactory(request=request, rank=2)
    third = CandidateFactory(request=request, rank=3)
    with django_capture_on_commit_callbacks(execute=True):
        ask = services.prospect_choose(request=request, candidate_id=first.pk)
    mail.outbox.clear()
    return request, ask, second.advocate, third.advocate


def _answer(client, ask, answer: str, **extra):
    return client.post(reverse("references:ask_answer", args=[ask.pk]), {"answer": answer, **extra})


def test_an_advocate_cannot_answer_a_request_meant_for_someone_else(
    other_advocate_client, chosen
) -> None:
    _request, ask, *_ = chosen
    response = _answer(other_advocate_client, ask, "accept")
    assert response.status_code == 404
    ask.refresh_from_db()
    assert ask.status == Ask.Status.PENDING


def test_accepting_sends_both_sides_the_introduction(
    advocate_client, advocate, chosen, django_capture_on_commit_callbacks
) -> None:
    request, ask, *_ = chosen
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(advocate_client, ask, "accept")
    assert response.status_code == 302
    ask.refresh_from_db()
    request.refresh_from_db()
    assert ask.status == Ask.Status.ACCEPTED
    assert request.status == ReferenceRequest.Status.SCHEDULED
    to_prospect, to_advocate = mail.outbox
    assert to_prospect.to == [request.prospect_email]
    assert advocate.user.email in to_prospect.body
    assert "Video call" in to_prospect.body
    assert to_advocate.to == [advocate.user.email]
    assert request.prospect_email in to_advocate.body
    # The task is safe to run twice: nothing is mailed again.
    from references.tasks import intro_send

    assert intro_send(ask.pk) == "skipped"
    assert len(mail.outbox) == 2


def test_htmx_answer_returns_only_the_card(advocate_client, chosen, htmx_headers) -> None:
    _request, ask, *_ = chosen
    response = advocate_client.post(
        reverse("references:ask_answer", args=[ask.pk]),
        {"answer": "decline", "reason": "Travelling", "next": "hub"},
        **htmx_headers,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert f'id="ask-{ask.pk}"' in page
    assert "You declined" in page
    assert "Travelling" in page


def test_declining_asks_the_prospects_next_choice_then_the_rep(
    chosen, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask, second, third = chosen
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=False, reason="Busy")
    request.refresh_from_db()
    assert request.status == ReferenceRequest.Status.ASKED
    nxt = Ask.objects.get(request=request, status=Ask.Status.PENDING)
    assert nxt.advocate == second
    # The third is unavailable now (paused): after the second declines, back to the rep.
    Advocate.objects.filter(pk=third.pk).update(status=Advocate.Status.PAUSED)
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_answer(ask_id=nxt.pk, advocate=second, accept=False)
    request.refresh_from_db()
    assert request.status == ReferenceRequest.Status.NEEDS_REP
    assert not Ask.objects.filter(request=request, status=Ask.Status.PENDING).exists()
    assert mail.outbox[-1].to == [request.rep.email]


def test_answering_twice_or_late_changes_nothing(chosen, advocate) -> None:
    _request, ask, *_ = chosen
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
    with pytest.raises(services.ReferenceError, match="already answered"):
        services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=False)
    late = AskFactory(advocate=AdvocateFactory(), deadline=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.ReferenceError, match="time to answer has passed"):
        services.ask_answer(ask_id=late.pk, advocate=late.advocate, accept=True)
    late.refresh_from_db()
    assert late.status == Ask.Status.PENDING


def test_the_beat_task_times_out_unanswered_asks_and_moves_on(chosen) -> None:
    request, ask, second, _third = chosen
    Ask.objects.filter(pk=ask.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert asks_expire_overdue() == 1
    ask.refresh_from_db()
    assert ask.status == Ask.Status.EXPIRED
    assert Ask.objects.get(request=request, status=Ask.Status.PENDING).advocate == second
    assert asks_expire_overdue() == 0  # nothing more is due


def test_call_done_awards_points_once_and_counts_toward_the_cap(
    rep_client, chosen, advocate, django_capture_on_commit_callbacks
) -> None:
    request, ask, *_ = chosen
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
    url = reverse("references:request_call", args=[request.pk])
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(url, {"outcome": "done"})
    rep_client.post(url, {"outcome": "done"})  # a double click
    advocate.refresh_from_db()
    assert advocate.balance == services.call_points()
    entry = LedgerEntry.objects.get(advocate=advocate)
    assert entry.idempotency_key == f"reference-call:{ask.pk}:completed"
    assert guard.advocate_load(advocate.pk) == 1
    # Feedback requests went to both sides.
    assert {tuple(m.to) for m in mail.outbox} == {
        (request.prospect_email,),
        (advocate.user.email,),
    }


def test_a_no_show_gives_no_points_and_frees_the_slot(chosen, advocate) -> None:
    request, ask, *_ = chosen
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
    assert guard.advocate_load(advocate.pk) == 1
    services.call_record(request=request, completed=False)
    advocate.refresh_from_db()
    assert advocate.balance == 0
    assert guard.advocate_load(advocate.pk) == 0


def test_feedback_from_both_sides_once(client, advocate_client, chosen, advocate) -> None:
    request, ask, *_ = chosen
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
    services.call_record(request=request, completed=True)
    url = reverse("references:ask_feedback", args=[ask.pk])
    advocate_client.post(url, {"rating": 5, "text": "Great people"})
    advocate_client.post(url, {"rating": 1, "text": "changed my mind"})
    ask.refresh_from_db()
    assert (ask.advocate_rating, ask.advocate_feedback) == (5, "Great people")

    token = links.prospect_token(request, purpose=links.FEEDBACK_SALT)
    link = reverse("references:prospect_feedback", kwargs={"pk": request.pk, "token": token})
    assert client.post(link, {"rating": 4, "text": "Helpful"}).status_code == 302
    client.post(link, {"rating": 1})
    request.refresh_from_db()
    assert (request.prospect_rating, request.prospect_feedback) == (4, "Helpful")
    assert "Thank you" in client.get(link).content.decode()


def test_closing_the_deal_records_influenced_revenue(rep_client, chosen, advocate) -> None:
    request, ask, *_ = chosen
    services.ask_answer(ask_id=ask.pk, advocate=advocate, accept=True)
    services.call_record(request=request, completed=True)
    ReferenceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    url = reverse("references:request_close", args=[request.pk])
    # Bad input: a clear message and nothing changed.
    response = rep_client.post(
        url, {"outcome": "won", "closed_on": timezone.localdate()}, follow=True
    )
    assert "Enter the amount won." in response.content.decode()
    request.refresh_from_db()
    assert request.outcome == ""
    rep_client.post(
        url, {"outcome": "won", "won_amount": "42000", "closed_on": timezone.localdate()}
    )
    request.refresh_from_db()
    assert request.won_amount == Decimal("42000")
    assert request.days_to_close == 30
    stats = selectors.console_stats()
    assert stats.influenced_revenue == Decimal("42000")
    assert stats.influenced_deals == 1
    assert stats.fulfilled == 1


def test_hub_shows_the_pending_request_with_accept_and_decline(advocate_client, chosen) -> None:
    request, ask, *_ = chosen
    page = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert "Reference calls waiting for you" in page
    assert request.prospect_name in page
    assert reverse("references:ask_answer", args=[ask.pk]) in page
    assert 'value="accept"' in page
    assert 'value="decline"' in page


def test_pausing_keeps_the_advocate_out_of_matching(advocate_client, advocate) -> None:
    until = timezone.localdate() + timedelta(days=7)
    advocate_client.post(reverse("references:pause"), {"until": until})
    assert advocate.reference_pause.until == until
    assert not guard.available_advocates().filter(pk=advocate.pk).exists()
    response = advocate_client.post(
        reverse("references:pause"),
        {"until": timezone.localdate() - timedelta(days=1)},
        follow=True,
    )
    assert "Pick a date from today on." in response.content.decode()
    advocate.reference_pause.refresh_from_db()
    assert advocate.reference_pause.until == until
