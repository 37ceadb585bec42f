"""Reference drives: advocates see the open requests that fit them, with why, and pick."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocates.models import Advocate, Person, PersonInterest
from core import fragments
from references import selectors, services
from references.models import (
    Ask,
    DrivePass,
    IndustryWeights,
    MatchingWeights,
    ReferenceDrive,
    ReferenceRequest,
)
from tests.factories import ProductFactory, TagFactory
from tests.references.factories import (
    AskFactory,
    PersonFactory,
    ReferenceRequestFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


def _fit(advocate: Advocate, **profile) -> Advocate:
    for name, value in ({"reference_opt_in": True} | profile).items():
        setattr(advocate, name, value)
    advocate.save()
    return advocate


def _drive(rep, *requests: ReferenceRequest) -> ReferenceDrive:
    drive = ReferenceDrive.objects.create(name="Spring drive", created_by=rep)
    drive.requests.set(requests)
    return drive


@pytest.fixture
def offered(rep, advocate):
    """Five open requests in a drive; the advocate (Healthcare, uses Analytics) fits the
    first ones best."""
    _fit(advocate, industry="Healthcare")
    analytics = ProductFactory(name="Analytics")
    onboarding = TagFactory(name="Fast onboarding")
    advocate.products.set([analytics])
    advocate.tags.set([onboarding])
    best = ReferenceRequestFactory(rep=rep, prospect_name="Best Fit", prospect_company="Acme")
    best.products.set([analytics])
    best.topics.set([onboarding])
    good = ReferenceRequestFactory(rep=rep, prospect_name="Good Fit", prospect_company="Bolt")
    good.products.set([analytics])
    fair = ReferenceRequestFactory(rep=rep, prospect_name="Fair Fit", prospect_company="Cogs")
    weak = ReferenceRequestFactory(
        rep=rep, prospect_name="Weak Fit", prospect_industry="Mining", prospect_title=""
    )
    weaker = ReferenceRequestFactory(
        rep=rep, prospect_name="Weaker Fit", prospect_industry="Mining", prospect_title=""
    )
    _drive(rep, best, good, fair, weak, weaker)
    return best, good, fair, weak, weaker


def test_ranking_gives_at_most_three_with_reasons(advocate, offered) -> None:
    best, good, fair, *_ = offered
    suggestions = selectors.drive_suggestions(advocate)
    assert [s.request for s in suggestions] == [best, good, fair]
    reasons = suggestions[0].public_reasons
    assert {"Also in Healthcare", "Uses Analytics", "Can speak to fast onboarding"} <= set(reasons)
    assert "Also in Healthcare" in suggestions[2].public_reasons


def test_a_relationship_is_a_reason(advocate, rep) -> None:
    _fit(advocate, industry="Software")
    percy = PersonFactory(full_name="Percy Prospect", kind=Person.Kind.PROSPECT)
    dana = PersonFactory(full_name="Dana Colleague", kind=Person.Kind.EMPLOYEE)
    me = PersonFactory(advocate=advocate, kind=Person.Kind.ADVOCATE)
    RelationshipFactory(from_person=me, to_person=dana)
    RelationshipFactory(from_person=dana, to_person=percy)
    known = ReferenceRequestFactory(rep=rep, prospect_person=percy, prospect_industry="Retail")
    other = ReferenceRequestFactory(rep=rep, prospect_industry="Retail")
    _drive(rep, other, known)
    first, second = selectors.drive_suggestions(advocate)
    assert first.request == known
    assert "You both know Dana Colleague" in first.public_reasons
    assert second.request == other


def test_a_prospect_interest_the_advocate_can_speak_to_is_a_reason(advocate, rep) -> None:
    _fit(advocate, industry="Software")
    advocate.tags.set([TagFactory(name="Data privacy")])
    percy = PersonFactory(full_name="Percy Prospect", kind=Person.Kind.PROSPECT)
    PersonInterest.objects.create(person=percy, name="data PRIVACY")
    # An industry with its own weights: they carry the interests weight too.
    IndustryWeights.objects.create(for_industry="Retail", interests=50)
    interested = ReferenceRequestFactory(rep=rep, prospect_person=percy, prospect_industry="Retail")
    other = ReferenceRequestFactory(rep=rep, prospect_industry="Retail")
    _drive(rep, other, interested)
    first, second = selectors.drive_suggestions(advocate)
    assert first.request == interested
    assert "Can speak to your interest in data privacy" in first.public_reasons
    assert first.score - second.score >= 50


@pytest.mark.usefixtures("offered")
def test_hub_and_references_page_show_the_suggestions(advocate_client) -> None:
    for url in (reverse("advocates:hub"), reverse("references:my_requests")):
        page = advocate_client.get(url).content.decode()
        assert "Prospects you could help" in page
        assert "Best Fit" in page
        assert "Fair Fit" in page
        assert "Weak Fit" not in page
        assert "Also in Healthcare" in page


def test_picking_creates_the_accepted_ask_and_introduces_with_the_rep_in_copy(
    advocate_client, advocate, offered, django_capture_on_commit_callbacks
) -> None:
    best = offered[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = advocate_client.post(reverse("references:drive_pick"), {"request": best.pk})
    ask = Ask.objects.get(request=best)
    assert response.status_code == 302
    assert response["Location"] == reverse("references:ask_call", args=[ask.pk])
    best.refresh_from_db()
    assert ask.advocate == advocate
    assert ask.status == Ask.Status.ACCEPTED
    assert best.status == ReferenceRequest.Status.SCHEDULED
    to_prospect, to_advocate = mail.outbox  # the introduction, as for an accepted ask
    assert to_prospect.to == [best.prospect_email]
    assert best.rep.email in to_prospect.body + " ".join(to_prospect.cc)
    assert to_advocate.to == [advocate.user.email]


def test_a_taken_request_disappears_from_others_suggestions(
    advocate, other_advocate, offered
) -> None:
    best = offered[0]
    _fit(other_advocate, industry="Healthcare")
    assert best in [s.request for s in selectors.drive_suggestions(other_advocate)]
    services.drive_pick(advocate=advocate, request_id=best.pk)
    others = [s.request for s in selectors.drive_suggestions(other_advocate)]
    assert best not in others
    assert len(others) == 3  # the other suggestions stay open
    # Picking it anyway (a page opened before) is refused and changes nothing.
    with pytest.raises(services.ReferenceError, match="Another advocate took this request"):
        services.drive_pick(advocate=other_advocate, request_id=best.pk)
    assert Ask.objects.filter(request=best).count() == 1


def test_an_advocate_who_opted_out_sees_none_and_cannot_pick(
    advocate_client, advocate, offered
) -> None:
    advocate.reference_opt_in = False
    advocate.save()
    assert selectors.drive_suggestions(advocate) == []
    assert (
        "Prospects you could help"
        not in advocate_client.get(reverse("advocates:hub")).content.decode()
    )
    response = advocate_client.post(reverse("references:drive_pick"), {"request": offered[0].pk})
    assert response.status_code == 302
    assert not Ask.objects.exists()


def test_an_advocate_at_their_cap_sees_none(advocate, offered) -> None:
    advocate.reference_max_calls_per_90d = 1
    advocate.save()
    AskFactory(advocate=advocate, status=Ask.Status.ACCEPTED)
    assert selectors.drive_suggestions(advocate) == []
    with pytest.raises(services.ReferenceError, match="reached their 1 calls"):
        services.drive_pick(advocate=advocate, request_id=offered[0].pk)


def test_passing_hides_the_shown_ones_and_shows_the_next(
    advocate_client, advocate, other_advocate, offered, htmx_headers
) -> None:
    best, good, fair, _weak, _weaker = offered
    response = advocate_client.post(
        reverse("references:drive_pass"),
        {"request": [best.pk, good.pk, fair.pk], "next": "hub"},
        **htmx_headers,
    )
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="drive-suggestions"' in page
    assert "Weak Fit" in page
    assert "Best Fit" not in page
    assert DrivePass.objects.filter(advocate=advocate).count() == 3
    _fit(other_advocate, industry="Healthcare")
    assert [s.request for s in selectors.drive_suggestions(other_advocate)] == [best, good, fair]


def test_a_closed_drive_offers_nothing(rep_client, advocate, offered) -> None:
    drive = ReferenceDrive.objects.get()
    rep_client.post(reverse("references:drive_close", args=[drive.pk]))
    assert selectors.drive_suggestions(advocate) == []
    with pytest.raises(services.ReferenceError, match="no longer offered"):
        services.drive_pick(advocate=advocate, request_id=offered[0].pk)


def test_a_request_in_no_drive_cannot_be_picked(advocate, rep, offered) -> None:
    elsewhere = ReferenceRequestFactory(rep=rep, prospect_name="Not Offered")
    with pytest.raises(services.ReferenceError, match="no longer offered"):
        services.drive_pick(advocate=advocate, request_id=elsewhere.pk)
    assert not Ask.objects.filter(request=elsewhere).exists()


def test_rep_starts_a_drive_with_their_open_requests(rep_client, rep, other_rep) -> None:
    mine = ReferenceRequestFactory(rep=rep, prospect_name="Mine Prospect")
    asked = ReferenceRequestFactory(
        rep=rep, prospect_name="Asked Prospect", status=ReferenceRequest.Status.ASKED
    )
    theirs = ReferenceRequestFactory(rep=other_rep, prospect_name="Theirs Prospect")
    page = rep_client.get(reverse("references:drives")).content.decode()
    assert "Mine Prospect" in page
    assert "Asked Prospect" not in page
    assert "Theirs Prospect" not in page
    # Another rep's request is not a choice: the form says so and nothing is made.
    response = rep_client.post(
        reverse("references:drives"), {"name": "Q2", "requests": [theirs.pk]}
    )
    assert "Select a valid choice" in response.content.decode()
    response = rep_client.post(reverse("references:drives"), {"name": "", "requests": []})
    assert "Pick at least one open request to offer." in response.content.decode()
    assert not ReferenceDrive.objects.exists()
    response = rep_client.post(reverse("references:drives"), {"name": "Q2", "requests": [mine.pk]})
    assert response.status_code == 302
    drive = ReferenceDrive.objects.get()
    assert list(drive.requests.all()) == [mine]
    assert asked not in drive.requests.all()


def test_drive_service_refuses_a_request_already_asked(rep) -> None:
    asked = ReferenceRequestFactory(rep=rep, status=ReferenceRequest.Status.ASKED)
    with pytest.raises(services.ReferenceError, match="only requests still matching"):
        services.drive_create(by=rep, name="Q2", requests=[asked], see_all=False)
    assert not ReferenceDrive.objects.exists()


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_suggestions_query_count_does_not_grow_with_requests(
    advocate_client, advocate, rep
) -> None:
    _fit(advocate, industry="Healthcare")
    analytics = ProductFactory(name="Analytics")
    advocate.products.set([analytics])
    MatchingWeights.current()
    drive = _drive(rep)

    def add(n: int) -> None:
        for _ in range(n):
            request = ReferenceRequestFactory(rep=rep, prospect_person=PersonFactory())
            request.products.set([analytics])
            drive.requests.add(request)

    def hub() -> int:
        # The hub's body rendered, not served from its cached fragment.
        fragments.advocates_changed([advocate.pk])
        return _count(advocate_client, reverse("advocates:hub"))

    add(3)
    hub()  # the hub's caches filled once
    few = _count(advocate_client, reverse("references:my_requests"))
    few_hub = hub()
    add(20)
    assert _count(advocate_client, reverse("references:my_requests")) == few
    assert hub() == few_hub


def test_drives_list_query_count_does_not_grow(rep_client, rep) -> None:
    for _ in range(2):
        _drive(rep, ReferenceRequestFactory(rep=rep))
    few = _count(rep_client, reverse("references:drives"))
    for _ in range(20):
        _drive(rep, ReferenceRequestFactory(rep=rep), ReferenceRequestFactory(rep=rep))
    assert _count(rep_client, reverse("references:drives")) == few
