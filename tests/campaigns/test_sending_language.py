"""Each campaign email is written in its recipient's language (footer, unsubscribe text,
placeholder defaults), while the batch still renders each template once per language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from advocates.models import User
from campaigns.models import Campaign, CampaignMessage, Segment
from campaigns.sending import batch, render
from campaigns.services import campaigns as campaign_services
from core.models import ProgramSettings
from tests.campaigns.test_sending import advocates, make_campaign, run

pytestmark = pytest.mark.django_db


def test_each_message_is_rendered_in_its_recipients_language(manager) -> None:
    advocates(3)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    program = ProgramSettings.load()
    messages = list(
        CampaignMessage.objects.filter(campaign=campaign)
        .select_related("advocate__user")
        .order_by("id")
    )
    messages[0].advocate.user.language = "de"
    messages[1].advocate.user.language = "es"
    prepared = render.prepare_batch(campaign=campaign, messages=messages, program=program)
    seen = []

    def shells(program, *, pixel):
        seen.append(translation.get_language())
        return real(program, pixel=pixel)

    real = render._shells
    render._shells = shells
    try:
        with translation.override("en"):
            rendered = [
                render.render_message(
                    campaign=campaign, message=message, program=program, prepared=prepared
                )
                for message in messages
            ]
            assert translation.get_language() == "en"  # the override ends with the message
    finally:
        render._shells = real
    assert seen == ["de", "es", "en"]  # once per language, not once per message
    assert set(prepared.shells) == {"de", "es", "en"}
    assert [r.html.count(f'lang="{lang}"') for r, lang in zip(rendered, seen, strict=True)] == [
        1,
        1,
        1,
    ]


def test_a_batch_loads_each_recipients_account_with_its_messages(manager, monkeypatch) -> None:
    advocates(4)
    campaign = make_campaign()
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    users = []
    real = render.render_message

    def spy(**kwargs):
        message = kwargs["message"]
        # Already loaded: reading the account costs no query.
        assert "advocate" in message._state.fields_cache
        assert "user" in message.advocate._state.fields_cache
        users.append(message.advocate.user.pk)
        return real(**kwargs)

    monkeypatch.setattr(render, "render_message", spy)
    while not batch.campaign_send_next_batch(campaign_id=campaign.pk).stopped:
        pass
    assert len(users) == 4


def test_a_campaign_written_per_language_reaches_each_reader_in_theirs(
    manager, manager_client, mailoutbox
) -> None:
    """Composed in the console with a Spanish text; a German reader has none, so gets
    the site's (English) text, in a German frame."""
    segment = Segment.objects.create(name="Everyone", filters={})
    readers = advocates(3)
    for advocate, language in zip(readers, ("en", "es", "de"), strict=True):
        User.objects.filter(pk=advocate.user_id).update(language=language)
    response = manager_client.post(
        reverse("campaigns:campaign_new"),
        {
            "name": "Spring drive",
            "kind": Campaign.Kind.REFERRAL_DRIVE,
            "segment": segment.pk,
            "subject": "Hi {{ first_name }}",
            "subject_es": "Hola {{ first_name }}",
            "body": "Share {{ referral_link }} with a colleague.",
            "body_es": "Comparte {{ referral_link }} con un colega.",
            "send": "draft",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Spring drive")
    assert (campaign.subject_en, campaign.subject_es, campaign.subject_de) == (
        "Hi {{ first_name }}",
        "Hola {{ first_name }}",
        None,
    )
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    by_reader = {m.to[0]: m for m in mailoutbox}
    english, spanish, german = (by_reader[a.user.email] for a in readers)
    assert english.subject.startswith("Hi ")
    assert spanish.subject.startswith("Hola ")
    assert "Comparte http" in spanish.body
    assert german.subject.startswith("Hi ")  # no German text: the site's
    assert "Share http" in german.body
    with translation.override("de"):  # ... in a German frame
        unsubscribe = translation.gettext("Unsubscribe from campaign emails")
    assert unsubscribe != "Unsubscribe from campaign emails"
    assert unsubscribe in german.alternatives[0][0]
    assert unsubscribe not in english.alternatives[0][0]


def test_a_translation_with_a_bad_placeholder_is_refused(manager_client) -> None:
    segment = Segment.objects.create(name="Everyone", filters={})
    response = manager_client.post(
        reverse("campaigns:campaign_new"),
        {
            "name": "Spring drive",
            "kind": Campaign.Kind.REFERRAL_DRIVE,
            "segment": segment.pk,
            "subject": "Hi",
            "body": "Share {{ referral_link }}.",
            "body_de": "Teile {{ passwort }}.",
            "send": "draft",
        },
    )
    assert response.status_code == 200
    assert not Campaign.objects.exists()
    assert "passwort" in response.content.decode()
