"""The prospect's signed link: only their request, only their shortlist, and it expires."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from references import links, services
from references.models import Ask, ReferenceRequest
from tests.factories import AdvocateFactory
from tests.references.factories import CandidateFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(rep, django_capture_on_commit_callbacks):
    """A request whose shortlist (Alice, Bob) was sent to the prospect."""
    alice = AdvocateFactory(user__first_name="Alice", reference_opt_in=True, bio="Ran our rollout.")
    bob = AdvocateFactory(user__first_name="Bob", reference_opt_in=True)
    AdvocateFactory(user__first_name="Nobody", reference_opt_in=False)
    request = ReferenceRequestFactory(rep=rep, prospect_name="Percy Prospect")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_send_to_prospect(request=request, by=rep)
    request.refresh_from_db()
    return request, alice, bob


def _url(request: ReferenceRequest, token: str | None = None) -> str:
    token = token or links.prospect_token(request)
    return reverse("references:prospect", kwargs={"pk": request.pk, "token": token})


def test_sending_emails_the_link_and_the_page_shows_only_the_shortlist(client, sent) -> None:
    request, alice, bob = sent
    assert request.status == ReferenceRequest.Status.WITH_PROSPECT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [request.prospect_email]
    link = re.search(r"http\S+/reference/\S+", mail.outbox[0].body).group(0)
    response = client.get(link.removeprefix(settings.SITE_URL))
    assert response.status_code == 200
    page = response.content.decode()
    assert alice.name in page
    assert bob.name in page
    assert "Ran our rollout." in page
    assert "Nobody" not in page
    # A limited profile: no email address, no capacity bookkeeping, no scores.
    assert alice.user.email not in page
    assert "calls left" not in page
    assert request.opportunity_name not in page


def test_a_link_cannot_open_another_request(client, sent, rep) -> None:
    request, *_ = sent
    other = ReferenceRequestFactory(rep=rep, link_nonce=request.link_nonce)
    response = client.get(_url(other, links.prospect_token(request)))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_modified_token_is_refused(client, sent) -> None:
    request, *_ = sent
    token = links.prospect_token(request)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(_url(request, forged))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    # Even a validly signed link of another purpose opens nothing here.
    feedback = links.prospect_token(request, purpose=links.FEEDBACK_SALT)
    assert client.get(_url(request, feedback)).status_code == 404


def test_an_expired_link_shows_the_expiry_page(client, sent) -> None:
    request, *_ = sent
    long_ago = time.time() - 15 * 24 * 3600  # the link works 14 days
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = links.prospect_token(request)
    response = client.get(_url(request, token))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_sending_again_replaces_the_old_link(client, sent, rep) -> None:
    request, *_ = sent
    old = _url(request)
    services.request_send_to_prospect(request=request, by=rep)
    response = client.get(old)
    assert response.status_code == 404
    assert "replaced by a newer one" in response.content.decode()


def test_the_prospect_picks_one_and_that_advocate_is_asked(
    client, sent, django_capture_on_commit_callbacks
) -> None:
    request, alice, _bob = sent
    candidate = request.candidates.get(advocate=alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(request), {"candidate": candidate.pk})
    assert response.status_code == 302
    ask = Ask.objects.get(request=request)
    assert ask.advocate == alice
    assert ask.status == Ask.Status.PENDING
    assert mail.outbox[-1].to == [alice.user.email]
    page = client.get(_url(request)).content.decode()
    assert f"we asked {alice.name}" in page
    # A second choice changes nothing.
    response = client.post(_url(request), {"candidate": candidate.pk})
    assert response.status_code == 409
    assert Ask.objects.filter(request=request).count() == 1


def test_a_candidate_of_another_request_cannot_be_picked(client, sent) -> None:
    request, *_ = sent
    foreign = CandidateFactory()
    response = client.post(_url(request), {"candidate": foreign.pk})
    assert response.status_code == 409
    assert "Pick one of the people on this page" in response.content.decode()
    assert not Ask.objects.exists()


def test_asking_for_other_options_goes_back_to_the_rep(
    client, sent, django_capture_on_commit_callbacks
) -> None:
    request, *_ = sent
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(request), {"more_options": "1"})
    request.refresh_from_db()
    assert request.status == ReferenceRequest.Status.NEEDS_REP
    assert mail.outbox[-1].to == [request.rep.email]
    assert not Ask.objects.exists()
    # A retried task mails nothing twice.
    from references.tasks import rep_notice_send

    sent = len(mail.outbox)
    assert rep_notice_send(request.pk, "more_options", 1) == "skipped: delivered"
    assert len(mail.outbox) == sent


def test_nothing_to_send_when_nobody_is_available(rep) -> None:
    request = ReferenceRequestFactory(rep=rep)
    with pytest.raises(services.ReferenceError, match="No advocate is available"):
        services.request_send_to_prospect(request=request, by=rep)
    request.refresh_from_db()
    assert request.status == ReferenceRequest.Status.OPEN
    assert not request.link_nonce
