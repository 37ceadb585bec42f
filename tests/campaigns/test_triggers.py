"""Trigger campaigns: which events fire them, once per advocate, and only while active."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from campaigns import tasks
from campaigns.models import Campaign, CampaignMessage, TriggerFire
from campaigns.services import kinds as kinds_services
from campaigns.services import triggers
from challenges.models import LevelAchievement
from referrals.models import Stage
from tests import factories
from tests.challenges.factories import LevelFactory, NPSResponseFactory
from tests.concurrency import POSTGRES_RACE, run_at_once
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def _trigger_campaign(trigger: str, *, start: bool = True, **extra) -> Campaign:
    campaign = Campaign.objects.create(
        name=f"On {trigger}",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        subject="Thanks {{ first_name }}",
        body="Here is your link: {{ referral_link }}",
    )
    kinds_services.campaign_trigger_set(
        campaign=campaign,
        trigger=trigger,
        level=extra.get("level"),
        inactive_days=extra.get("inactive_days"),
    )
    if start:
        kinds_services.campaign_trigger_start(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def _later(minutes: int = 5):
    return timezone.now() + timedelta(minutes=minutes)


def _recipients(campaign: Campaign) -> list[str]:
    return sorted(campaign.messages.values_list("email", flat=True))


def test_nps_promoter_fires_once_per_advocate_even_when_evaluated_twice(
    advocate, other_advocate, django_capture_on_commit_callbacks
):
    campaign = _trigger_campaign(Campaign.Trigger.NPS_PROMOTER)
    NPSResponseFactory(advocate=advocate, score=10)
    NPSResponseFactory(advocate=other_advocate, score=8)  # a passive: no
    NPSResponseFactory(advocate=advocate, score=9)  # a second promoter answer

    with mock.patch("campaigns.tasks.campaign_send_batch.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            fired = triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later())
        assert fired == 1
        delay.assert_called_once_with(campaign.pk)  # sending is enqueued after commit

        # Evaluated again (the window overlaps the last one): nothing new.
        with django_capture_on_commit_callbacks(execute=True):
            assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later(6)) == 0
        assert delay.call_count == 1

    assert _recipients(campaign) == [advocate.user.email]
    message = campaign.messages.get()
    assert (message.status, message.advocate) == (CampaignMessage.Status.PENDING, advocate)
    assert TriggerFire.objects.filter(campaign=campaign).count() == 1

    # Another promoter answer later, from the same advocate: still once.
    NPSResponseFactory(advocate=advocate, score=10, created_at=_later(7))
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later(10)) == 0
    assert campaign.messages.count() == 1


def test_events_before_the_start_and_after_the_stop_do_not_fire(advocate, other_advocate):
    NPSResponseFactory(advocate=advocate, score=10, created_at=timezone.now() - timedelta(days=1))
    campaign = _trigger_campaign(Campaign.Trigger.NPS_PROMOTER)
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later()) == 0

    kinds_services.campaign_trigger_stop(campaign_id=campaign.pk)
    NPSResponseFactory(advocate=other_advocate, score=10, created_at=_later(1))
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later(2)) == 0
    assert not campaign.messages.exists()


def test_a_draft_trigger_campaign_never_fires(advocate):
    campaign = _trigger_campaign(Campaign.Trigger.NPS_PROMOTER, start=False)
    NPSResponseFactory(advocate=advocate, score=10)
    assert tasks.triggers_evaluate() == 0
    assert not campaign.messages.exists()


def test_level_reached_fires_for_that_level_only(advocate, other_advocate):
    gold, silver = (
        LevelFactory(name="Gold", threshold=2000),
        LevelFactory(name="Silver", threshold=500),
    )
    campaign = _trigger_campaign(Campaign.Trigger.LEVEL_REACHED, level=gold)
    LevelAchievement.objects.create(advocate=advocate, level=gold)
    LevelAchievement.objects.create(advocate=other_advocate, level=silver)
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later()) == 1
    assert _recipients(campaign) == [advocate.user.email]


def test_referral_won_fires_for_the_referring_advocate(advocate, other_advocate):
    campaign = _trigger_campaign(Campaign.Trigger.REFERRAL_WON)
    ReferralFactory(advocate=advocate, stage=Stage.WON, won_at=timezone.now())
    ReferralFactory(advocate=other_advocate, stage=Stage.QUALIFIED)
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later()) == 1
    assert _recipients(campaign) == [advocate.user.email]


def test_inactive_n_days_semantics():
    now = timezone.now()
    day = timedelta(days=1)

    def make(name: str, **fields) -> Advocate:
        return factories.AdvocateFactory(user__email=f"{name}@example.com", **fields)

    make("acted-31-days-ago", last_active_at=now - 31 * day)
    make("acted-29-days-ago", last_active_at=now - 29 * day)
    make("never-acted-joined-31-days-ago", last_active_at=None, joined_at=now - 31 * day)
    make("never-acted-joined-10-days-ago", last_active_at=None, joined_at=now - 10 * day)
    make(
        "paused-and-inactive",
        status=Advocate.Status.PAUSED,
        last_active_at=now - 60 * day,
    )
    campaign = _trigger_campaign(Campaign.Trigger.INACTIVE, inactive_days=30)

    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=now) == 2
    assert _recipients(campaign) == [
        "acted-31-days-ago@example.com",
        "never-acted-joined-31-days-ago@example.com",
    ]
    # Still inactive an evaluation later: not asked twice.
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=now + day) == 0
    # Two days later the one who acted 29 days ago crosses the line: fired, once.
    assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=now + 2 * day) == 1
    assert "acted-29-days-ago@example.com" in _recipients(campaign)


def test_evaluation_queries_do_not_grow_with_the_advocates_fired():
    def run(n: int) -> int:
        campaign = _trigger_campaign(Campaign.Trigger.NPS_PROMOTER)
        for _ in range(n):
            NPSResponseFactory(score=10)
        with CaptureQueriesContext(connection) as queries:
            assert triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later()) == n
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
        return len(queries)

    assert run(2) == run(12)


def test_trigger_kind_and_settings_are_checked():
    campaign = Campaign.objects.create(
        name="Invite", kind=Campaign.Kind.INVITATION, subject="s", body="{{ invitation_link }}"
    )
    with pytest.raises(kinds_services.KindError, match="Triggers fire for advocates"):
        kinds_services.campaign_trigger_set(campaign=campaign, trigger=Campaign.Trigger.INACTIVE)
    campaign.kind = Campaign.Kind.REFERRAL_DRIVE
    with pytest.raises(kinds_services.KindError, match="how many days"):
        kinds_services.campaign_trigger_set(campaign=campaign, trigger=Campaign.Trigger.INACTIVE)
    with pytest.raises(kinds_services.KindError, match="Choose a trigger first"):
        kinds_services.campaign_trigger_start(campaign_id=campaign.pk)


def test_trigger_page_saves_starts_and_stops(manager_client):
    campaign = Campaign.objects.create(
        name="Thanks", kind=Campaign.Kind.REFERRAL_DRIVE, subject="s", body="{{ referral_link }}"
    )
    url = reverse("campaigns:kinds_trigger", kwargs={"pk": campaign.pk})
    response = manager_client.post(url, {"action": "save", "trigger": "inactive"})
    assert response.status_code == 200
    assert "Say after how many days." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.trigger == ""

    manager_client.post(url, {"action": "save", "trigger": "nps_promoter"})
    manager_client.post(url, {"action": "start"})
    campaign.refresh_from_db()
    assert (campaign.trigger, campaign.status) == ("nps_promoter", Campaign.Status.SENDING)
    assert "Listening" in manager_client.get(url).content.decode()
    manager_client.post(url, {"action": "stop"})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED


@POSTGRES_RACE[0]
@POSTGRES_RACE[1]
@POSTGRES_RACE[2]
def test_concurrent_evaluations_fire_each_advocate_once():
    campaign = _trigger_campaign(Campaign.Trigger.NPS_PROMOTER)
    advocates = [factories.AdvocateFactory() for _ in range(5)]
    for advocate in advocates:
        NPSResponseFactory(advocate=advocate, score=10)
    with mock.patch("campaigns.tasks.campaign_send_batch.delay"):
        outcomes = run_at_once(
            lambda i: triggers.trigger_evaluate_campaign(campaign_id=campaign.pk, now=_later()),
            threads=6,
        )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(outcomes) == 5
    assert campaign.messages.count() == 5
    assert TriggerFire.objects.filter(campaign=campaign).count() == 5
