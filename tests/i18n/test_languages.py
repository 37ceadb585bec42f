"""Which language a person reads Vouch in: detected, chosen, saved, and used for email."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from advocates.models import User
from tests import factories

pytestmark = pytest.mark.django_db

LANGUAGE = reverse("core:language")


def test_a_visitor_gets_the_language_the_browser_asks_for(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response["Content-Language"] == "de"


def test_a_language_vouch_does_not_speak_falls_back_to_the_sites(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="ja")
    assert response["Content-Language"] == settings.LANGUAGE_CODE


def test_the_first_sign_in_saves_the_detected_language(client, advocate):
    client.post(
        reverse("account_login"),
        {"login": advocate.user.email, "password": factories.PASSWORD},
        HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9",
    )
    advocate.user.refresh_from_db()
    assert advocate.user.language == "es"


def test_a_later_sign_in_keeps_the_chosen_language(client, advocate):
    User.objects.filter(pk=advocate.user.pk).update(language="de")
    client.post(
        reverse("account_login"),
        {"login": advocate.user.email, "password": factories.PASSWORD},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    advocate.user.refresh_from_db()
    assert advocate.user.language == "de"


def test_the_saved_language_wins_over_the_browser(client, advocate):
    advocate.user.language = "de"
    advocate.user.save(update_fields=["language"])
    client.force_login(advocate.user)
    response = client.get(reverse("advocates:hub"), HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Language"] == "de"


def test_choosing_a_language_saves_it_and_sends_the_person_back(client, advocate):
    client.force_login(advocate.user)
    response = client.post(LANGUAGE, {"language": "es", "next": "/rewards/"})
    assert response.status_code == 302
    assert response.url == "/rewards/"
    advocate.user.refresh_from_db()
    assert advocate.user.language == "es"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert client.get(reverse("advocates:hub"))["Content-Language"] == "es"


def test_a_visitor_choosing_a_language_gets_a_cookie(client):
    response = client.post(LANGUAGE, {"language": "de", "next": "/accounts/login/"})
    assert response.url == "/accounts/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert client.get(reverse("account_login"))["Content-Language"] == "de"


def test_an_unknown_language_changes_nothing_and_says_so(client, advocate):
    advocate.user.language = "de"
    advocate.user.save(update_fields=["language"])
    client.force_login(advocate.user)
    response = client.post(LANGUAGE, {"language": "xx", "next": "/rewards/"}, follow=True)
    advocate.user.refresh_from_db()
    assert advocate.user.language == "de"
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    assert [str(m) for m in response.context["messages"]]


def test_a_next_address_off_the_site_is_not_followed(client):
    response = client.post(LANGUAGE, {"language": "de", "next": "https://evil.example/"})
    assert response.url == "/"


def test_choosing_a_language_needs_a_post(client):
    assert client.get(LANGUAGE).status_code == 405


def test_choosing_a_language_on_the_profile_saves_it_and_says_so_in_it(client, advocate):
    client.force_login(advocate.user)
    response = client.post(
        reverse("advocates:profile"),
        {"reference_max_calls_per_90d": "2", "language": "es"},
        follow=True,
    )
    advocate.user.refresh_from_db()
    assert advocate.user.language == "es"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"  # kept after sign-out
    with translation.override("es"):
        saved = translation.gettext("Your profile is saved.")
    assert saved != "Your profile is saved."
    assert [str(m) for m in response.context["messages"]] == [saved]


def test_an_unknown_language_with_an_off_site_next_goes_home(client):
    response = client.post(LANGUAGE, {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
