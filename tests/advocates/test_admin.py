from django.urls import reverse

from advocates.models import Advocate
from rewards.services import points_award


def test_admin_save_keeps_points_awarded_meanwhile(admin_user, advocate) -> None:
    """Saving a stale admin form must not roll back an award made since it was loaded."""
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:advocates_advocate_change", args=[advocate.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("avatar", "avatar_thumbnail")
    }
    data.update(
        user=advocate.user.pk,
        company=advocate.company.pk,
        title="Chief of Staff",
        products=[],
        tags=[],
        owner_rep="",
    )
    points_award(advocate_id=advocate.pk, amount=70, reason="meanwhile", idempotency_key="m:1")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    advocate = Advocate.objects.get(pk=advocate.pk)
    assert advocate.title == "Chief of Staff"
    assert advocate.balance == 70
    assert advocate.lifetime_points == 70
