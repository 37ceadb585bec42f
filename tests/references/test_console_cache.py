"""The reference requests list (cached per rep, a manager's program-wide) and the
reference console are cached (core.fragments, issue 20): each write they show, made
through its service, is on the next visit. The clock the keys round is held mid-minute
(``fragments_held``), so only the write can make the new value show."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from references import selectors, services
from references.models import Ask, ReferenceRequest
from tests.fragments import client_for, page
from tests.references.factories import AskFactory, ReferenceRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragments_held")]

REQUESTS = reverse("references:requests")
CONSOLE = reverse("references:console")


def create(rep, name: str) -> ReferenceRequest:
    return services.request_create(
        rep=rep,
        prospect_name=name,
        prospect_email="p@prospect.example",
        prospect_company="Acme Clinics",
        opportunity_name="Acme rollout",
        opportunity_amount=Decimal("50000"),
        opportunity_stage=ReferenceRequest.Stage.EVALUATION,
        call_type=ReferenceRequest.CallType.VIDEO,
        needed_by=timezone.localdate() + timedelta(days=10),
    )


def test_second_visits_are_the_cached_bodies(
    rep, rep_client, manager_client, django_assert_max_num_queries
) -> None:
    ReferenceRequestFactory(rep=rep, prospect_name="Percy Prospect")
    for client, url in ((rep_client, REQUESTS), (manager_client, CONSOLE)):
        page(client, url)
        # The user with their roles (the console: and its figures' cache); the body too.
        with django_assert_max_num_queries(1):
            assert "Percy Prospect" in page(client, url)


def test_each_rep_sees_their_own_requests(rep, rep_client, other_rep, manager_client) -> None:
    ReferenceRequestFactory(rep=rep, prospect_name="Percy Mine")
    ReferenceRequestFactory(rep=other_rep, prospect_name="Theo Theirs")
    mine = page(rep_client, REQUESTS)
    theirs = page(client_for(other_rep), REQUESTS)
    everyone = page(manager_client, REQUESTS)
    assert "Percy Mine" in mine
    assert "Theo Theirs" not in mine
    assert "Theo Theirs" in theirs
    assert "Percy Mine" not in theirs
    assert "Percy Mine" in everyone
    assert "Theo Theirs" in everyone


def test_a_request_made_shows(rep, rep_client, manager_client) -> None:
    assert "No reference requests" in page(rep_client, REQUESTS)
    assert "No open requests" in page(manager_client, CONSOLE)
    create(rep, "Nora New")
    assert "Nora New" in page(rep_client, REQUESTS)
    assert "Nora New" in page(manager_client, CONSOLE)


def test_an_ask_answered_shows(rep, rep_client, manager_client, django_capture_on_commit_callbacks):
    ask = AskFactory(request__rep=rep, advocate__user__first_name="Ada")
    # The status badge (the status filter names every status).
    assert ">Waiting for the advocate</span>" in page(rep_client, REQUESTS)
    assert ">Waiting for the advocate</span>" in page(manager_client, CONSOLE)
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_answer(ask_id=ask.pk, advocate=ask.advocate, accept=True)
    assert Ask.objects.get(pk=ask.pk).status == Ask.Status.ACCEPTED
    for client, url in ((rep_client, REQUESTS), (manager_client, CONSOLE)):
        now = page(client, url)
        assert ">Call agreed</span>" in now
        assert ">Waiting for the advocate</span>" not in now


def test_an_advocate_renamed_shows_on_the_rep_list(rep, rep_client) -> None:
    ask = AskFactory(request__rep=rep, advocate__user__first_name="Ada")
    assert "Ada" in page(rep_client, REQUESTS)
    ask.advocate.user.first_name = "Augusta"
    ask.advocate.user.save()
    assert "Augusta" in page(rep_client, REQUESTS)


def test_figures_computed_again_show(rep, manager_client) -> None:
    """The console's body is keyed by when its shared figures were computed: once they
    are computed again (each minute), the page shows them, whatever else changed."""
    ReferenceRequestFactory(rep=rep, prospect_name="Percy Prospect")
    assert "Percy Prospect" in page(manager_client, CONSOLE)
    # Closed behind the services' back (no version dropped), then the figures' minute ends.
    ReferenceRequest.objects.update(status=ReferenceRequest.Status.CANCELLED)
    assert "Percy Prospect" in page(manager_client, CONSOLE)
    cache.delete_many([selectors.CONSOLE_CACHE_KEY, selectors.CONSOLE_STAMP_KEY])
    assert "No open requests" in page(manager_client, CONSOLE)
