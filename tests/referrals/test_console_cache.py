"""The reps' referral pipeline (cached per reader) and the referral KPIs, page and JSON
(cached program-wide), are cached (core.fragments, issue 20): each write they show, made
through its service, is on the next visit. The clock the keys round is held mid-minute
(``fragments_held``), so only the write can make the new value show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from referrals.models import Method, Stage
from referrals.services import imports, referral_advance, referral_create
from tests.factories import AdvocateFactory
from tests.fragments import client_for, page
from tests.referrals.factories import ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

PIPELINE = reverse("referrals:rep_list")
KPIS = reverse("referrals:kpis")
KPIS_JSON = reverse("referrals:kpis_json")
REF_HEADER = (
    "external_id,advocate_email,referred_name,referred_email,referred_company,method,"
    "created_at,stage,stage_changed_at,deal_amount\n"
)


def window() -> dict[str, str]:
    """This month so far, today included (the end day is not)."""
    today = timezone.localdate()
    end = today + timedelta(days=1)
    return {"start": today.replace(day=1).isoformat(), "end": end.isoformat()}


def figures(client: Client) -> dict:
    response = client.get(KPIS_JSON, window())
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def owned(rep):
    return AdvocateFactory(owner_rep=rep, user__first_name="Ada", user__email="ada@cust.example")


def test_second_visits_are_the_cached_bodies(
    owned, rep_client, manager_client, django_assert_max_num_queries
) -> None:
    ReferralFactory(advocate=owned, referred_name="Grace Hopper")
    for client, url, shown in (
        (rep_client, PIPELINE, "Grace Hopper"),
        (manager_client, KPIS, "Enrolled advocates"),
    ):
        page(client, url)
        # The user with their roles; the body from the cache.
        with django_assert_max_num_queries(1):
            assert shown in page(client, url)
    figures(manager_client)
    with django_assert_max_num_queries(1):
        assert figures(manager_client)["referrals"] == 1


def test_each_rep_sees_their_own_pipeline(owned, rep_client, other_rep) -> None:
    ReferralFactory(advocate=owned, referred_name="Grace Hopper")
    ReferralFactory(advocate=AdvocateFactory(owner_rep=other_rep), referred_name="Alan Turing")
    mine = page(rep_client, PIPELINE)
    theirs = page(client_for(other_rep), PIPELINE)
    assert "Grace Hopper" in mine
    assert "Alan Turing" not in mine
    assert "Alan Turing" in theirs
    assert "Grace Hopper" not in theirs


def test_a_stage_moved_shows(owned, rep, rep_client, django_capture_on_commit_callbacks) -> None:
    """The move is a conditional update: no model signal, the service drops the version."""
    referral = ReferralFactory(advocate=owned, referred_name="Grace Hopper")
    assert 'badge--ok">Won</span>' not in page(rep_client, PIPELINE)
    with django_capture_on_commit_callbacks(execute=True):
        referral_advance(referral_id=referral.pk, stage=Stage.WON, actor=rep)
    assert ">Won</span>" in page(rep_client, PIPELINE)


def test_referrals_imported_set_wise_show(
    owned, rep_client, manager_client, django_capture_on_commit_callbacks
) -> None:
    """The import writes with COPY: no model signal, the service drops the versions."""
    assert "No referrals here" in page(rep_client, PIPELINE)
    assert figures(manager_client)["referrals"] == 0
    today = timezone.localdate().isoformat()
    row = f"SF-1,ada@cust.example,Grace Hopper,grace@navy.example,Navy,lead_form,{today},,,\n"
    with django_capture_on_commit_callbacks(execute=True):
        imports.referrals_import(source=REF_HEADER + row)
    assert "Grace Hopper" in page(rep_client, PIPELINE)
    assert figures(manager_client)["referrals"] == 1


def test_a_referral_made_shows_in_the_kpis(
    owned, manager_client, django_capture_on_commit_callbacks
) -> None:
    assert figures(manager_client)["referrals"] == 0
    page(manager_client, KPIS)
    assert "Grace Hopper" not in page(manager_client, PIPELINE + "?scope=all")
    with django_capture_on_commit_callbacks(execute=True):
        referral_create(
            advocate_id=owned.pk,
            method=Method.LEAD_FORM,
            referred_name="Grace Hopper",
            referred_email="grace@navy.example",
        )
    assert figures(manager_client)["referrals"] == 1
    assert "Grace Hopper" in page(manager_client, PIPELINE + "?scope=all")


def test_an_advocate_enrolled_shows_in_the_kpis(owned, manager_client) -> None:
    """The enrolled advocates are counted with the figures, under the people's version."""
    assert figures(manager_client)["enrolled_advocates"] == 1
    before = page(manager_client, KPIS)
    AdvocateFactory(joined_at=timezone.now().replace(day=1))
    assert figures(manager_client)["enrolled_advocates"] == 2
    assert page(manager_client, KPIS) != before


def test_an_advocate_who_left_leaves_the_kpis(owned, manager, manager_client, rf) -> None:
    """Saved in the admin (the one place an advocate's status changes by hand)."""
    assert figures(manager_client)["enrolled_advocates"] == 1
    owned.status = Advocate.Status.LEFT
    request = rf.post("/admin/")
    request.user = manager
    admin.site._registry[Advocate].save_model(request, owned, None, True)
    assert figures(manager_client)["enrolled_advocates"] == 0
