from unittest import mock

from django.test import Client
from django.urls import reverse

from advocates.admin import AdvocateAdmin
from advocates.models import Advocate
from rewards.services.ledger import points_award


def test_admin_save_keeps_points_awarded_during_the_request(admin_user, advocate) -> None:
    """An award landing after the admin loaded the advocate must survive the save."""
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:advocates_advocate_change", args=[advocate.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("avatar", "avatar_thumbnail")
    }
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
