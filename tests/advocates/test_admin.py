from unittest import mock

from django.test import Client
from django.urls import reverse

from advocates.admin import AdvocateAdmin
from advocates.models import Advocate
from console.ams import ams_refresh
from rewards.services.ledger import points_award
from tests.referrals.factories import ReferralFactory


def _change_form(admin_user, advocate) -> tuple[Client, str, dict]:
    """The admin's change form for ``advocate``, as loaded: its client, URL and values."""
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:advocates_advocate_change", args=[advocate.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("avatar", "avatar_thumbnail")
    }
    return client, url, data


def test_admin_save_keeps_points_awarded_during_the_request(admin_user, advocate) -> None:
    """An award landing after the admin loaded the advocate must survive the save."""
    client, url, data = _change_form(admin_user, advocate)
    data.update(company=advocate.company.pk, title="Chief of Staff", owner_rep="")
    original_save_form = AdvocateAdmin.save_form

    def award_then_save_form(self, request, form, change):
        # The object is loaded; a task awards points before the admin writes it back.
        points_award(advocate_id=advocate.pk, amount=70, reason="meanwhile", idempotency_key="m:1")
        return original_save_form(self, request, form, change)

    with mock.patch.object(AdvocateAdmin, "save_form", award_then_save_form):
        response = client.post(url, data)

    assert response.status_code == 302
    advocate = Advocate.objects.get(pk=advocate.pk)
    assert advocate.title == "Chief of Staff"
    assert advocate.balance == 70
    assert advocate.lifetime_points == 70


def test_admin_save_keeps_the_activity_recomputed_during_the_request(admin_user, advocate):
    """The AMS, NPS and last activity are kept by the activity services, not the form: a
    recompute landing after the admin loaded the advocate must survive the save."""
    client, url, data = _change_form(admin_user, advocate)
    data.update(company=advocate.company.pk, title="Head of Ops", owner_rep="")
    original_save_form = AdvocateAdmin.save_form

    def recompute_then_save_form(self, request, form, change):
        # The object is loaded; the advocate refers someone and the AMS is recomputed.
        ReferralFactory(advocate=advocate)
        assert ams_refresh(advocate_id=advocate.pk) is not None
        return original_save_form(self, request, form, change)

    with mock.patch.object(AdvocateAdmin, "save_form", recompute_then_save_form):
        response = client.post(url, data)

    assert response.status_code == 302
    saved = Advocate.objects.get(pk=advocate.pk)
    assert saved.title == "Head of Ops"
    assert saved.ams > 0
    assert saved.last_active_at is not None
    assert saved.updated_at > advocate.updated_at
