"""What is written for someone else is in *their* language: points lines, notifications,
campaign checks; and what machines read stays in the site's language."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from advocates.models import Notification
from campaigns.models import Campaign, Segment
from campaigns.placeholders import every_language_problems
from challenges.models import Challenge, Submission
from challenges.services import challenge_update, submission_approve
from core.i18n import in_sentence, lazy_text, number, save_language, with_weekday
from core.models import ProgramSettings
from discussions.models import Thread
from discussions.selectors import viewer_for
from discussions.services import (
    answer_accept,
    idea_status_set,
    reply_create,
    thread_create,
    vote_toggle,
)
from rewards.models import LedgerEntry
from rewards.services.ledger import Award, points_award_many
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.factories import AdvocateFactory

pytestmark = pytest.mark.django_db


def speaking(language: str):
    advocate = AdvocateFactory()
    advocate.user.language = language
    advocate.user.save(update_fields=["language"])
    return advocate


def in_(language: str, text: str) -> str:
    with translation.override(language):
        translated = translation.gettext(text)
    assert translated != text, f"no {language} for {text!r}"
    return translated


def test_a_points_line_is_in_its_advocates_language_whoever_approves(manager):
    reader = speaking("es")
    challenge = ChallengeFactory(
        title="Write a review", title_es="Escribe una reseña", status=Challenge.Status.PUBLISHED
    )
    submission = SubmissionFactory(challenge=challenge, advocate=reader)
    with translation.override("de"):  # the manager reads Vouch in German
        submission_approve(submission_id=submission.pk, reviewer=manager)
    line = LedgerEntry.objects.get(advocate=reader)
    assert line.reason == "Reto: Escribe una reseña"
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.APPROVED


def test_a_bulk_award_writes_each_line_in_its_advocates_language():
    readers = [speaking("es"), speaking("de"), speaking("")]
    points_award_many(
        awards=[
            Award(
                advocate_id=reader.pk,
                amount=10,
                reason=lazy_text(gettext_lazy("Referral won: %(name)s"), name="Acme"),
                idempotency_key=f"test:{reader.pk}",
            )
            for reader in readers
        ]
    )
    lines = {e.advocate_id: e.reason for e in LedgerEntry.objects.all()}
    assert lines[readers[0].pk] == in_("es", "Referral won: %(name)s") % {"name": "Acme"}
    assert lines[readers[1].pk] == in_("de", "Referral won: %(name)s") % {"name": "Acme"}
    assert lines[readers[2].pk] == "Referral won: Acme"  # no language saved: the site's


def test_a_notification_is_in_its_readers_language(settings):
    settings.LANGUAGE_CODE = "en"
    asker, answerer = speaking("en"), speaking("de")
    thread = thread_create(
        viewer=viewer_for(asker.user), kind=Thread.Kind.QUESTION, title="Onboarding?", body="Tips?"
    )
    reply = reply_create(viewer=viewer_for(answerer.user), thread_id=thread.pk, body="A pilot.")
    answer_accept(viewer=viewer_for(asker.user), reply_id=reply.pk)
    note = Notification.objects.filter(advocate=answerer).latest("pk")
    points = ProgramSettings.load().accepted_answer_points
    with translation.override("de"):
        expected = translation.gettext(
            "Your answer to “%(title)s” was accepted: +%(points)s points."
        ) % {"title": "Onboarding?", "points": number(points)}
    assert note.message == expected
    assert expected.startswith("Deine Antwort")


def test_an_idea_status_reads_right_in_german(manager):
    voter = speaking("de")
    idea = thread_create(
        viewer=viewer_for(voter.user), kind=Thread.Kind.IDEA, title="Dark mode", body="Please."
    )
    vote_toggle(viewer=viewer_for(voter.user), thread_id=idea.pk)
    idea_status_set(viewer=viewer_for(manager), thread_id=idea.pk, status="under_review")
    note = Notification.objects.get(advocate=voter)
    assert "in Prüfung" in note.message  # not "in prüfung": German keeps its nouns


def test_a_manager_reading_spanish_edits_the_sites_text(manager):
    challenge = ChallengeFactory(title="Write a review", status=Challenge.Status.DRAFT)
    with translation.override("es"):
        challenge_update(
            challenge_id=challenge.pk,
            data={"title": "Write a short review", "title_es": "Escribe una reseña"},
            by=manager,
        )
    challenge.refresh_from_db()
    assert (challenge.title_en, challenge.title_es) == (
        "Write a short review",
        "Escribe una reseña",
    )


def test_the_console_form_keeps_the_sites_text_for_a_spanish_manager(manager, manager_client):
    save_language(manager, "es")
    challenge = ChallengeFactory(title="Write a review", status=Challenge.Status.DRAFT)
    page = manager_client.get(reverse("challenges:edit", args=[challenge.pk])).content.decode()
    assert 'value="Write a review"' in page  # the site's text, though the page is Spanish
    assert 'lang="es"' in page


def test_a_campaigns_start_checks_every_languages_text_whoever_asks(manager):
    campaign = Campaign.objects.create(
        name="Join us",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        segment=Segment.objects.create(name="All", filters={}),
        subject="Hi",
        body="Share {{ referral_link }}.",
        body_de="Teile {{ passwort }}.",  # a placeholder that does not exist
    )
    answers = []
    for language in ("en", "es", "de"):
        with translation.override(language):
            answers.append(bool(every_language_problems(Campaign.objects.get(pk=campaign.pk))))
    assert answers == [True, True, True]
    Campaign.objects.filter(pk=campaign.pk).update(body_de="Teile {{ referral_link }}.")  # mended
    assert every_language_problems(Campaign.objects.get(pk=campaign.pk)) == []


@pytest.mark.parametrize(("language", "expected"), [("en", "a video call"), ("de", "a Video call")])
def test_a_label_inside_a_sentence(language, expected):
    with translation.override(language):
        assert f"a {in_sentence('Video call')}" == expected


def test_meeting_times_carry_their_weekday_in_each_language():
    moment = datetime(2026, 12, 3, 15, 0)
    shown = {}
    for language in ("en", "es", "de"):
        with translation.override(language):
            shown[language] = with_weekday(moment)
    assert shown == {
        "en": "Thursday, December 3, 2026, 15:00",
        "es": "jueves 3 de diciembre de 2026, 15:00",
        "de": "Donnerstag, 3. Dezember 2026, 15:00",
    }
