"""The signed links in every campaign email: unsubscribe, open pixel, click redirect."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns import selectors
from campaigns.models import CampaignMessage, Suppression
from campaigns.sending import tracking
from campaigns.services import campaigns as campaign_services
from tests import factories
from tests.campaigns.test_sending import make_campaign, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(manager) -> tuple:
    """A referral drive sent to two advocates: (campaign, ada's message, ada's email)."""
    ada = factories.AdvocateFactory(user__email="ada@example.com", user__first_name="Ada")
    factories.AdvocateFactory(user__email="bob@example.com")
    campaign = make_campaign(
        body="Hi {{ first_name }},\n\nRead https://example.org/guide?a=1&b=2 and share "
        "{{ referral_link }}.\n\nBye: {{ unsubscribe_link }}"
    )
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    message = CampaignMessage.objects.get(campaign=campaign, advocate=ada)
    email = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    return campaign, message, email


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _html(email) -> str:
    return email.alternatives[0][0]


def test_unsubscribe_link_confirms_on_get_and_unsubscribes_on_post(sent) -> None:
    campaign, message, email = sent
    link = re.search(r"<(.+)>", email.extra_headers["List-Unsubscribe"]).group(1)
    assert link in email.body  # the text version carries it too
    client = Client()

    page = client.get(_path(link))
    assert page.status_code == 200
    assert b"Unsubscribe from campaign emails?" in page.content
    assert not Suppression.objects.exists()  # a link scanner's GET changes nothing

    done = client.post(_path(link))
    assert done.status_code == 200
    assert b"You are unsubscribed" in done.content
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("ada@example.com", "unsubscribed")
    message.refresh_from_db()
    assert message.unsubscribed_at is not None
    first = message.unsubscribed_at
    client.post(_path(link))  # twice: still one suppression, the first time kept
    message.refresh_from_db()
    assert (Suppression.objects.count(), message.unsubscribed_at) == (1, first)
    assert selectors.campaign_progress(campaign.pk)["unsubscribed"] == 1


def test_one_click_post_from_a_mail_provider_needs_no_csrf_token(sent) -> None:
    _, _, email = sent
    link = re.search(r"<(.+)>", email.extra_headers["List-Unsubscribe"]).group(1)
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(_path(link), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Suppression.objects.filter(email="ada@example.com").exists()


def test_the_next_campaign_skips_an_unsubscribed_address(sent, manager) -> None:
    _, message, _ = sent
    campaign_services.message_unsubscribe(message_id=message.pk)
    mail.outbox.clear()
    later = make_campaign(name="Later")
    campaign_services.campaign_start(campaign=later, actor=manager)
    run(later)
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    assert selectors.campaign_progress(later.pk)["skipped_unsubscribed"] == 1


@pytest.mark.parametrize("mangle", ["tampered", "truncated", "other-salt"])
def test_a_forged_unsubscribe_token_is_refused_and_changes_nothing(sent, mangle) -> None:
    _, message, _ = sent
    token = tracking.token_make("unsubscribe", message.pk)
    token = {
        "tampered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "truncated": token[: len(token) // 2],
        "other-salt": tracking.token_make("open", message.pk),
    }[mangle]
    url = reverse("campaigns:unsubscribe", kwargs={"token": token})
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code == 400
        assert b"This link is not valid" in response.content
    assert not Suppression.objects.exists()


def test_open_pixel_records_the_first_open_only(sent) -> None:
    _, message, email = sent
    pixel = re.search(r'<img src="([^"]+)"', _html(email)).group(1)
    response = Client().get(_path(pixel))
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    message.refresh_from_db()
    first = message.opened_at
    assert first is not None
    Client().get(_path(pixel))
    message.refresh_from_db()
    assert message.opened_at == first
    forged = reverse("campaigns:track_open", kwargs={"token": "x" + pixel.rsplit("/", 1)[1][:-4]})
    assert Client().get(forged).status_code == 404


def test_click_redirects_to_the_signed_url_and_records_the_first_click(sent) -> None:
    campaign, message, email = sent
    html = _html(email)
    hrefs = re.findall(r'href="([^"]+)"', html)
    tracked = [h for h in hrefs if "/e/c/" in h]
    # The guide link and the referral link are tracked; the unsubscribe link is not.
    assert len(tracked) == 2
    assert any("/u/" in h for h in hrefs)
    response = Client().get(_path(tracked[0].replace("&amp;", "&")))
    assert response.status_code == 302
    assert response["Location"] == "https://example.org/guide?a=1&b=2"
    message.refresh_from_db()
    assert message.clicked_at is not None
    assert message.opened_at is not None
    first = message.clicked_at
    Client().get(_path(tracked[0].replace("&amp;", "&")))
    message.refresh_from_db()
    assert message.clicked_at == first
    progress = selectors.campaign_progress(campaign.pk)
    assert (progress["opened"], progress["clicked"]) == (1, 1)
    # The plain-text version carries tracked links as well.
    assert "/e/c/" in email.body
    assert "example.org/guide" not in email.body


def test_a_click_token_cannot_be_pointed_somewhere_else(sent) -> None:
    _, message, _ = sent
    good = tracking.token_make("click", message.pk, "https://example.org/guide")
    _payload, _, signature = good.rpartition(":")
    evil = tracking.token_make("click", message.pk, "https://evil.example/")
    forged = evil.rpartition(":")[0] + ":" + signature  # another payload, the old signature
    for token in (forged, "not-a-token", tracking.token_make("open", message.pk)):
        response = Client().get(reverse("campaigns:track_click", kwargs={"token": token}))
        assert response.status_code == 400
    # Only http(s): a signed javascript: URL (never produced by us) is refused anyway.
    script = tracking.token_make("click", message.pk, "javascript:alert(1)")
    response = Client().get(reverse("campaigns:track_click", kwargs={"token": script}))
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.clicked_at is None
