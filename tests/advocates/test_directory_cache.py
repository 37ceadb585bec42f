"""The people list's body is cached program-wide (core.fragments, issue 20): each write it
shows, made through its service, is on the next visit. The clock the keys round is held
mid-minute (``fragments_held``), so only the write can make the new value show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.models import Advocate
from advocates.services import advocate_profile_update
from referrals.services import imports
from rewards.services.ledger import Award, points_award, points_award_many
from tests import factories
from tests.fragments import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

URL = reverse("advocates:directory")
ADV_HEADER = "email,first_name,last_name,company,title,industry,joined_at,owner_rep_email\n"


def people(client, query: str = "") -> str:
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_second_visit_is_the_cached_body(
    advocate, manager_client, django_assert_max_num_queries
) -> None:
    people(manager_client)
    # The user with their roles; the body from the cache.
    with django_assert_max_num_queries(1):
        assert "Ada" in people(manager_client)


def test_a_profile_saved_shows(advocate, manager_client) -> None:
    assert "Head of Platform" not in people(manager_client)
    advocate_profile_update(advocate=advocate, data={"title": "Head of Platform"})
    assert "Head of Platform" in people(manager_client)


def test_a_name_changed_shows(advocate, manager_client) -> None:
    people(manager_client)
    advocate.user.first_name = "Augusta"
    advocate.user.save()
    assert "Augusta" in people(manager_client)


def test_a_sign_in_keeps_the_cached_body(advocate, manager_client) -> None:
    people(manager_client)
    Advocate.objects.filter(pk=advocate.pk).update(title="Written behind the services' back")
    advocate.user.save(update_fields=["last_login"])  # a sign-in: nothing the list shows
    assert "behind the services" not in people(manager_client)


def test_points_awarded_show(advocate, manager_client, django_capture_on_commit_callbacks) -> None:
    people(manager_client)
    with django_capture_on_commit_callbacks(execute=True):
        points_award(advocate_id=advocate.pk, amount=1234, reason="Talk", idempotency_key="d1")
    assert "1,234" in people(manager_client)


def test_points_awarded_set_wise_show(
    advocate, manager_client, django_capture_on_commit_callbacks
) -> None:
    people(manager_client)
    with django_capture_on_commit_callbacks(execute=True):
        points_award_many(
            awards=[Award(advocate_id=advocate.pk, amount=4321, reason="Win", idempotency_key="d2")]
        )
    assert "4,321" in people(manager_client)


def test_advocates_imported_set_wise_show(
    advocate, manager_client, django_capture_on_commit_callbacks
) -> None:
    """The import writes with COPY: no model signal, the service drops the version."""
    assert "1 advocate" in people(manager_client)
    rows = "grace@example.com,Grace,Hopper,Navy,Admiral,Software,,\n"
    with django_capture_on_commit_callbacks(execute=True):
        imports.advocates_import(source=ADV_HEADER + rows)
    page = people(manager_client)
    assert "Grace Hopper" in page
    assert "2 advocates" in page


def test_each_rep_sees_their_own_advocates(
    advocate, rep, rep_client, other_rep, manager_client
) -> None:
    factories.AdvocateFactory(user__first_name="Owned", owner_rep=rep)
    factories.AdvocateFactory(user__first_name="Theirs", owner_rep=other_rep)
    assert 'name="mine"' not in people(manager_client)
    mine = people(rep_client, "?mine=on")
    assert "Owned" in mine
    assert "Theirs" not in mine
    theirs = people(client_for(other_rep), "?mine=on")
    assert "Theirs" in theirs
    assert "Owned" not in theirs


def test_points_awarded_keep_the_count(
    advocate, manager_client, django_capture_on_commit_callbacks
) -> None:
    """The body is rendered again for the new balance; the advocates are not counted
    again (core.pagination.KeptCountPaginator): their count did not change."""
    people(manager_client)
    with django_capture_on_commit_callbacks(execute=True):
        points_award(advocate_id=advocate.pk, amount=1234, reason="Talk", idempotency_key="d3")
    with CaptureQueriesContext(connection) as queries:
        page = people(manager_client)
    assert "1,234" in page
    assert "1 advocate" in page
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"]]
