"""The home URL sends each role to its own area; an advocate's page for staff."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from rewards.services.ledger import points_award
from tests import factories


def test_home_sends_each_role_to_its_area(
    advocate_client, rep_client, manager_client, admin_user, client
) -> None:
    assert advocate_client.get("/").url == reverse("advocates:hub")
    assert rep_client.get("/").url == reverse("advocates:directory")
    assert manager_client.get("/").url == reverse("console:home")
    client.force_login(admin_user)
    assert client.get("/").url == reverse("admin:index")
    assert Client().get("/").url.startswith(reverse("account_login"))


def test_a_signed_in_user_without_a_role_is_told_so(db) -> None:
    client = Client()
    client.force_login(factories.UserFactory())
    response = client.get("/")
    assert response.status_code == 403
    assert "You are signed in, but have no role yet" in response.content.decode()


def test_a_paused_advocate_has_no_hub(advocate, advocate_client) -> None:
    advocate.status = "paused"
    advocate.save()
    assert advocate_client.get(reverse("advocates:hub")).status_code == 403


def test_staff_see_an_advocates_details_and_points(rep_client, advocate) -> None:
    advocate.products.add(factories.ProductFactory(name="Analytics"))
    advocate.tags.add(factories.TagFactory(name="Fast onboarding"))
    points_award(advocate_id=advocate.pk, amount=40, reason="Wrote a review", idempotency_key="r")
    response = rep_client.get(reverse("advocates:detail", args=[advocate.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Ada", "ada@example.com", "Analytics", "Fast onboarding", "Wrote a review"):
        assert text in body
    assert rep_client.get(reverse("advocates:detail", args=[999_999])).status_code == 404
