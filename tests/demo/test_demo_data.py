"""`manage.py demo_data` (what `make run` loads): every app's demo content, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from advocates.models import CommunityGroup, GroupMembership
from api.models import APIKey
from campaigns.models import Campaign, Segment
from challenges.models import Challenge, Level
from discussions.models import Reply, Thread
from references.models import ReferenceRequest
from referrals.models import Referral
from rewards.models import LedgerEntry, Reward

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Challenge,
            Level,
            Reward,
            ReferenceRequest,
            Referral,
            Segment,
            Campaign,
            LedgerEntry,
            APIKey,
            CommunityGroup,
            GroupMembership,
            Thread,
            Reply,
        )
    }


def test_the_demo_has_something_in_every_area_and_loading_it_again_changes_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_data", stdout=io.StringIO())
    first = _counts()
    assert all(first.values()), f"an area of the demo is empty: {first}"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_data", stdout=io.StringIO())
    assert _counts() == first


def test_no_demo_campaign_is_left_sending_to_nobody(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_data", stdout=io.StringIO())
    stuck = Campaign.objects.annotate(recipients=Count("messages")).filter(
        status=Campaign.Status.SENDING, recipients=0
    )
    assert not list(stuck.values_list("name", flat=True))


def test_the_demo_prints_an_api_key_that_reads_everything_once(
    client, django_capture_on_commit_callbacks
) -> None:
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_data", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if "API key" in line)
    token = line.split()[-1]
    response = client.get("/api/v1/ledger", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["results"]
    again = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_data", stdout=again)
    assert "vch_" not in again.getvalue()
