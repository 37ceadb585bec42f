"""The floor every signed-in page pays (issue 20): the session from the cache, the user
and their roles in one query, the navigation reversed once per process. Each cache is
checked the way a user meets it: change something, then the next page shows it."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse

from advocates.models import Advocate
from core import models as core_models
from core import sessions
from core.models import ProgramSettings
from core.roles import MANAGERS_GROUP, REPS_GROUP, Role, user_roles, user_with_roles
from tests import factories

pytestmark = pytest.mark.django_db

FLOOR = "/bench/signed-in"


@pytest.fixture
def bench_urls(settings) -> None:
    settings.ROOT_URLCONF = "bench.urls"


def _nav(response) -> str:
    html = response.content.decode()
    return html[html.index('<nav class="nav"') : html.index("</nav>")]


@pytest.mark.parametrize(
    ("persona", "link"),
    [
        ("advocate_client", "Hub"),
        ("rep_client", "Reference requests"),
        ("manager_client", "Console"),
    ],
)
def test_floor_page_runs_one_query_once_the_session_is_cached(
    bench_urls, request, persona, link, django_assert_num_queries
) -> None:
    client = request.getfixturevalue(persona)
    assert client.get(FLOOR).status_code == 200  # warms the session's cache entry
    # The user and their roles, in one query: no session read, no roles query (the
    # two-factor check of a manager included).
    with django_assert_num_queries(1):
        response = client.get(FLOOR)
    assert response.status_code == 200
    assert link in _nav(response)


def test_the_session_survives_an_emptied_cache(bench_urls, advocate_client) -> None:
    advocate_client.get(FLOOR)
    cache.clear()  # Redis restarted
    response = advocate_client.get(FLOOR)
    assert response.status_code == 200
    assert "Hub" in _nav(response)


def test_signing_out_ends_the_cached_session(bench_urls, advocate_client) -> None:
    assert advocate_client.get(FLOOR).status_code == 200
    cookie = advocate_client.cookies["sessionid"].value
    advocate_client.post(reverse("account_logout"))
    replay = Client()
    replay.cookies["sessionid"] = cookie
    response = replay.get(FLOOR)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_new_manager_sees_the_console_on_the_next_page(bench_urls, advocate) -> None:
    factories.totp_activate(advocate.user)  # managers need two-factor (core.mfa)
    client = Client()
    client.force_login(advocate.user)
    assert "Console" not in _nav(client.get(FLOOR))
    advocate.user.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])
    nav = _nav(client.get(FLOOR))
    assert "Console" in nav
    assert "Hub" in nav
    assert client.get(reverse("console:home")).status_code == 200


def test_a_removed_rep_loses_the_pages_at_once(rep, rep_client) -> None:
    page = reverse("references:requests")
    assert rep_client.get(page).status_code == 200
    Group.objects.get(name=REPS_GROUP).user_set.remove(rep)
    assert rep_client.get(page).status_code == 403
    assert "Reference requests" not in _nav(rep_client.get(reverse("mfa_index")))


def test_a_paused_advocate_loses_the_advocate_pages_at_once(advocate, advocate_client) -> None:
    hub = reverse("advocates:hub")
    assert advocate_client.get(hub).status_code == 200
    advocate.status = Advocate.Status.PAUSED
    advocate.save(update_fields=["status"])
    assert advocate_client.get(hub).status_code == 403
    assert "Hub" not in _nav(advocate_client.get(reverse("mfa_index")))


def test_a_renamed_program_shows_its_new_name_on_the_next_page(bench_urls, advocate_client) -> None:
    assert advocate_client.get(FLOOR).status_code == 200
    program = ProgramSettings.load()
    program.name = "Acme Champions"
    program.save()
    assert "Acme Champions" in advocate_client.get(FLOOR).content.decode()


def test_the_current_page_is_marked_in_the_navigation(advocate_client, manager_client) -> None:
    nav = _nav(advocate_client.get(reverse("challenges:list")))
    assert f'<a href="{reverse("challenges:list")}" aria-current="page">Challenges</a>' in nav
    assert f'<a href="{reverse("advocates:hub")}">Hub</a>' in nav
    nav = _nav(manager_client.get(reverse("console:home")))
    assert f'<a href="{reverse("console:home")}" aria-current="page">Console</a>' in nav


def test_a_session_ended_where_the_cache_was_not_told_stops_working_within_minutes(
    bench_urls, advocate_client
) -> None:
    # A sign-out by a process that could not reach Redis leaves the cached copy behind:
    # it signs the browser in for CACHE_SECONDS at most, not the session's two weeks.
    assert advocate_client.get(FLOOR).status_code == 200
    Session.objects.filter(session_key=advocate_client.cookies["sessionid"].value).delete()
    assert advocate_client.get(FLOOR).status_code == 200  # still the cached copy
    later = time.time() + sessions.CACHE_SECONDS + 1
    with mock.patch("time.time", return_value=later):
        response = advocate_client.get(FLOOR)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# --- The layout's parts kept per process (core/templatetags/layout_tags.py) ---------------


def test_each_reader_sees_their_own_address_and_a_changed_one_at_once(
    bench_urls, advocate, advocate_client, other_advocate_client
) -> None:
    assert "ada@example.com" in advocate_client.get(FLOOR).content.decode()
    other = other_advocate_client.get(FLOOR).content.decode()
    assert "otto@example.com" in other
    assert "ada@example.com" not in other
    advocate.user.email = "ada.lovelace@example.com"
    advocate.user.save()
    page = advocate_client.get(FLOOR).content.decode()
    assert "ada.lovelace@example.com" in page
    assert "ada@example.com" not in page


def test_a_language_chosen_shows_the_layout_in_it(bench_urls, advocate_client) -> None:
    assert "Sign out" in advocate_client.get(FLOOR).content.decode()
    advocate_client.post(reverse("core:language"), {"language": "de", "next": FLOOR})
    page = advocate_client.get(FLOOR).content.decode()
    assert "Abmelden" in page
    assert "Sign out" not in page


def test_every_reader_gets_their_own_csrf_token_and_it_works(
    bench_urls, advocate_client, other_advocate_client
) -> None:
    def token(client: Client) -> str:
        html = client.get(FLOOR).content.decode()
        return html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    mine, theirs = token(advocate_client), token(other_advocate_client)
    assert "placeholder" not in mine + theirs
    assert mine != theirs
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = advocate_client.cookies
    response = strict.post(
        reverse("core:language"), {"language": "es", "next": FLOOR, "csrfmiddlewaretoken": mine}
    )
    assert response.status_code == 302


def test_each_page_keeps_its_own_title(advocate_client) -> None:
    hub = advocate_client.get(reverse("advocates:hub")).content.decode()
    rewards = advocate_client.get(reverse("rewards:catalog")).content.decode()
    assert "<title>Your hub" in hub
    assert "<title>Your hub" not in rewards


def test_the_user_read_with_the_roles_is_the_user_the_orm_reads(manager) -> None:
    """core.roles.user_with_roles converts the row as the ORM does (booleans, aware
    datetimes, the language), so the request's user is indistinguishable from one read
    with ``User.objects.get``; an id that is no user's, or no id at all, is nobody."""
    factories.AdvocateFactory(user=manager)
    manager.last_login = manager.date_joined
    manager.save()
    read = user_with_roles(str(manager.pk))  # the session keeps the id as text
    expected = type(manager).objects.get(pk=manager.pk)
    for field in type(manager)._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.last_login.tzinfo is not None
    assert read._state.adding is False
    assert user_roles(read) == {Role.MANAGER, Role.ADVOCATE}
    assert user_with_roles(manager.pk + 1000) is None
    assert user_with_roles("not-an-id") is None


def test_a_page_reads_its_session_and_the_program_settings_in_one_cache_call(
    bench_urls, advocate_client
) -> None:
    """Every page shows the program's branding: its settings come from the cache in the
    same round trip as the session, and are read once however often the page asks."""
    advocate_client.get(FLOOR)  # the session and the settings in the cache
    default = caches["default"]
    with (
        mock.patch.object(default, "get", wraps=default.get) as get,
        mock.patch.object(default, "get_many", wraps=default.get_many) as get_many,
    ):
        assert advocate_client.get(FLOOR).status_code == 200
    # One call for both (Redis: one MGET; the tests' LocMemCache answers it key by key).
    [(keys,)] = [call.args for call in get_many.call_args_list]
    assert core_models.PROGRAM_SETTINGS_CACHE_KEY in keys
    assert len(keys) == 2
    assert sorted(call.args[0] for call in get.call_args_list) == sorted(keys)


def test_a_request_reads_one_snapshot_of_the_settings_and_its_own_save() -> None:
    """Within a request the settings are read once (a save elsewhere shows on the next
    request); a save within it shows at once; outside a request every load reads."""
    ProgramSettings.load().save()
    core_models.program_settings_request_started()
    try:
        assert ProgramSettings.load().name == ""
        ProgramSettings.objects.filter(pk=1).update(name="Elsewhere")
        cache.delete(core_models.PROGRAM_SETTINGS_CACHE_KEY)  # as a save elsewhere does
        assert ProgramSettings.load().name == ""
        mine = ProgramSettings.objects.get(pk=1)
        mine.name = "Mine"
        mine.save()
        assert ProgramSettings.load().name == "Mine"
    finally:
        core_models.program_settings_request_finished()
    ProgramSettings.objects.filter(pk=1).update(name="Later")
    cache.delete(core_models.PROGRAM_SETTINGS_CACHE_KEY)
    assert ProgramSettings.load().name == "Later"
