"""A Spanish-speaking advocate reads the hub, a challenge and a campaign email in
Spanish; content without a Spanish text falls back to the site's."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.services import campaigns as campaign_services
from challenges.models import Challenge
from tests.campaigns.test_sending import make_campaign, run
from tests.challenges.factories import ChallengeFactory
from tests.rewards.factories import RewardFactory

pytestmark = pytest.mark.django_db


def spanish(text: str) -> str:
    with translation.override("es"):
        translated = translation.gettext(text)
    assert translated != text, f"no Spanish for {text!r}"
    return translated


@pytest.fixture
def hispanic(advocate):
    advocate.user.language = "es"
    advocate.user.save(update_fields=["language"])
    return advocate


def test_the_hub_is_in_spanish(client, hispanic):
    client.force_login(hispanic.user)
    response = client.get(reverse("advocates:hub"))
    body = response.content.decode()
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in body
    assert spanish("Rewards") in body  # the navigation
    assert spanish("advocate community") in body  # the footer


def test_a_challenge_is_in_spanish_with_its_spanish_text(client, hispanic):
    challenge = ChallengeFactory(
        title="Write a review",
        title_es="Escribe una reseña",
        description="Tell peers what you like.",
        status=Challenge.Status.PUBLISHED,
    )
    client.force_login(hispanic.user)
    body = client.get(reverse("challenges:detail", args=[challenge.pk])).content.decode()
    assert "Escribe una reseña" in body
    assert "Write a review" not in body
    assert "Tell peers what you like." in body  # no Spanish description: the site's


def test_a_reward_without_spanish_text_shows_the_sites(client, hispanic):
    RewardFactory(name="Company hoodie", name_de="Firmen-Hoodie")
    client.force_login(hispanic.user)
    body = client.get(reverse("rewards:catalog")).content.decode()
    assert "Company hoodie" in body
    assert spanish("My redemptions") in body


def test_a_campaign_email_is_in_spanish(manager, hispanic, mailoutbox):
    campaign = make_campaign(subject="Hi {{ first_name }}", subject_es="Hola {{ first_name }}")
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    (email,) = mailoutbox
    assert email.subject == "Hola Ada"
    assert spanish("Unsubscribe from campaign emails") in email.alternatives[0][0]
    assert 'lang="es"' in email.alternatives[0][0]
