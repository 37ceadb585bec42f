"""The advocate sees and edits their own profile."""

from __future__ import annotations

import pytest
from django.urls import reverse

from advocates.models import Advocate
from tests import factories

PROFILE = reverse("advocates:profile")


def _data(**extra: object) -> dict:
    data = {
        "title": "Head of Data",
        "seniority": Advocate.Seniority.VP,
        "industry": "Retail",
        "bio": "Dashboards, mostly.",
        "linkedin_url": "linkedin.com/in/ada",
        "reference_opt_in": "on",
        "reference_max_calls_per_90d": "3",
    }
    return data | extra


def test_the_profile_page_shows_the_advocates_own_profile(advocate, advocate_client, rep) -> None:
    advocate.owner_rep = rep
    advocate.save()
    response = advocate_client.get(PROFILE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "ada@example.com" in body
    assert advocate.company.name in body
    assert "Ravi" in body  # their contact at the company
    assert 'value="Director of Operations"' in body


def test_saving_the_profile_stores_every_field(advocate, advocate_client) -> None:
    analytics = factories.ProductFactory(name="Analytics")
    factories.ProductFactory(name="Automation")
    onboarding = factories.TagFactory(name="Fast onboarding")
    response = advocate_client.post(
        PROFILE, _data(products=[analytics.pk], tags=[onboarding.pk], leaderboard_opt_out="on")
    )
    assert response.status_code == 302
    assert response.url == PROFILE

    advocate.refresh_from_db()
    assert advocate.title == "Head of Data"
    assert advocate.seniority == Advocate.Seniority.VP
    assert advocate.industry == "Retail"
    assert advocate.bio == "Dashboards, mostly."
    assert advocate.linkedin_url == "https://linkedin.com/in/ada"
    assert advocate.reference_opt_in is True
    assert advocate.reference_max_calls_per_90d == 3
    assert advocate.leaderboard_opt_out is True
    assert list(advocate.products.all()) == [analytics]
    assert list(advocate.tags.all()) == [onboarding]
    assert "Your profile is saved." in advocate_client.get(PROFILE).content.decode()


def test_the_profile_form_cannot_touch_points_status_or_owner(
    advocate, advocate_client, rep
) -> None:
    response = advocate_client.post(
        PROFILE,
        _data(balance="99999", lifetime_points="99999", status="left", owner_rep=rep.pk),
    )
    assert response.status_code == 302
    advocate.refresh_from_db()
    assert (advocate.balance, advocate.lifetime_points) == (0, 0)
    assert advocate.status == Advocate.Status.ACTIVE
    assert advocate.owner_rep is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference_max_calls_per_90d", "21", "Choose between 0 and 20 calls per 90 days."),
        ("reference_max_calls_per_90d", "-1", "Ensure this value is greater than or equal to 0"),
        ("linkedin_url", "not a url", "Enter a valid URL."),
        ("seniority", "emperor", "Select a valid choice."),
        ("bio", "x" * 2001, "at most 2000 characters"),
    ],
)
def test_bad_profile_input_is_a_form_error_and_changes_nothing(
    advocate, advocate_client, field: str, value: str, message: str
) -> None:
    response = advocate_client.post(PROFILE, _data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    advocate.refresh_from_db()
    assert advocate.title == "Director of Operations"
    assert advocate.industry == "Software"


def test_an_advocate_edits_only_their_own_profile(
    advocate, other_advocate, advocate_client
) -> None:
    advocate_client.post(PROFILE, _data(title="Changed"))
    other_advocate.refresh_from_db()
    assert other_advocate.title == "Director of Operations"


def test_saving_a_profile_never_overwrites_points_awarded_meanwhile(
    advocate, advocate_client, monkeypatch
) -> None:
    """The profile page loads the advocate, a challenge award lands, then the form saves."""
    from advocates import selectors
    from rewards.services.ledger import points_award

    stale = Advocate.objects.get(pk=advocate.pk)
    monkeypatch.setattr(selectors, "advocate_for_user", lambda user: stale)
    points_award(advocate_id=advocate.pk, amount=70, reason="Review", idempotency_key="x:1")

    assert advocate_client.post(PROFILE, _data(title="New title")).status_code == 302
    advocate.refresh_from_db()
    assert advocate.title == "New title"
    assert (advocate.balance, advocate.lifetime_points) == (70, 70)
