"""Matching on a small hand-built graph where the right answer is known."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from advocates.models import Advocate, Company, Person
from advocates.services import advocate_profile_update
from references import matching, services
from references.matching import band
from references.models import Ask, MatchingWeights, ReferencePause
from tests.factories import AdvocateFactory, CompanyFactory, ProductFactory, RepFactory, TagFactory
from tests.references.factories import (
    AskFactory,
    PersonFactory,
    ReferenceRequestFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


def _advocate(name: str, **kwargs) -> Advocate:
    """An opted-in advocate; a perfect fit for the prospect unless told otherwise."""
    profile = {
        "industry": "Healthcare",
        "seniority": Advocate.Seniority.VP,
        "company": CompanyFactory(size_band=Company.SizeBand.LARGE, industry="Healthcare"),
        "reference_opt_in": True,
    } | kwargs
    return AdvocateFactory(user__first_name=name, user__last_name="Test", **profile)


def _plain(name: str) -> Advocate:
    """An advocate who shares nothing with the prospect."""
    return _advocate(
        name,
        industry="Software",
        seniority="",
        company=CompanyFactory(size_band="", industry="Software"),
    )


def _profile(advocate: Advocate, **data) -> None:
    """Products, tags or profile fields changed as the advocate changes them."""
    advocate_profile_update(advocate=advocate, data=data)


def _person(advocate: Advocate) -> Person:
    return PersonFactory(
        full_name=advocate.name,
        email=advocate.user.email,
        kind=Person.Kind.ADVOCATE,
        advocate=advocate,
    )


@pytest.fixture
def world():
    analytics, onboarding = ProductFactory(name="Analytics"), TagFactory(name="Fast onboarding")
    rep = RepFactory(first_name="Ravi", last_name="Rep")
    percy = PersonFactory(full_name="Percy Prospect", kind=Person.Kind.PROSPECT)
    request = ReferenceRequestFactory(
        rep=rep,
        prospect_person=percy,
        prospect_company="Acme",
        prospect_industry="Healthcare",
        prospect_title="VP Operations",
        prospect_company_size=Company.SizeBand.LARGE,
    )
    request.products.set([analytics])
    request.topics.set([onboarding])

    def fit(name: str, **kwargs) -> Advocate:
        advocate = _advocate(name, **kwargs)
        _profile(advocate, products=[analytics], tags=[onboarding])
        return advocate

    alice = fit("Alice")
    bob = _plain("Bob")  # knows Percy directly
    cara = _plain("Cara")  # knows Dana, a colleague, who knows Percy
    zed = _plain("Zed")  # nothing in common
    dana = PersonFactory(full_name="Dana Lee", kind=Person.Kind.EMPLOYEE)
    RelationshipFactory(from_person=_person(bob), to_person=percy)
    RelationshipFactory(from_person=dana, to_person=percy)
    RelationshipFactory(from_person=_person(cara), to_person=dana)
    # A 2nd-degree path through a mere contact is not a path anyone can use.
    stranger = PersonFactory(full_name="Stranger", kind=Person.Kind.CONTACT)
    RelationshipFactory(from_person=stranger, to_person=percy)
    RelationshipFactory(from_person=_person(zed), to_person=stranger)

    # Perfect fits that the burnout guard must keep out.
    paused = fit("Paused")
    ReferencePause.objects.create(advocate=paused, until=timezone.localdate() + timedelta(days=3))
    at_cap = fit("Capped")
    for _ in range(2):
        AskFactory(advocate=at_cap, status=Ask.Status.COMPLETED, completed_at=timezone.now())
    busy = fit("Busy")
    AskFactory(advocate=busy, status=Ask.Status.PENDING)
    fit("Shy", reference_opt_in=False)
    fit("Away", status=Advocate.Status.PAUSED)
    fit("Zero", reference_max_calls_per_90d=0)
    # Calls older than 90 days no longer count, and they show willingness.
    veteran = fit("Veteran")
    for days in (100, 120):
        AskFactory(
            advocate=veteran,
            status=Ask.Status.COMPLETED,
            asked_at=timezone.now() - timedelta(days=days),
            completed_at=timezone.now() - timedelta(days=days),
        )
    return {
        "request": request,
        "alice": alice,
        "bob": bob,
        "cara": cara,
        "zed": zed,
        "veteran": veteran,
        "busy": busy,
    }


def _names(matches) -> list[str]:
    return [match.advocate.user.first_name for match in matches]


def test_ranks_the_known_right_answer(world) -> None:
    matches = matching.rank(world["request"])
    # Default weights: industry 30, seniority 15, product 12, size 10, topic 10,
    # direct 40, 2nd degree 20, willingness 15 (half when never asked).
    assert _names(matches) == ["Veteran", "Alice", "Bob", "Cara", "Zed"]
    assert [m.score for m in matches] == [92, 84, 47, 27, 7]


def test_guard_keeps_out_paused_capped_busy_and_opted_out(world) -> None:
    names = _names(matching.rank(world["request"], limit=50))
    for kept_out in ("Paused", "Capped", "Busy", "Shy", "Away", "Zero"):
        assert kept_out not in names


def test_every_match_says_why_in_plain_words(world) -> None:
    by_name = {m.advocate.user.first_name: m for m in matching.rank(world["request"])}
    assert by_name["Alice"].rep_reasons == [
        "Healthcare like Acme",
        "Same seniority: Director of Operations",
        "Uses Analytics",
        "Same company size (501–5,000 employees)",
        "Can speak to fast onboarding",
        "Not asked before",
        "2 of 2 calls left this quarter",
    ]
    assert "Knows Percy directly" in by_name["Bob"].rep_reasons
    assert "Knows Percy through Dana Lee (your colleague)" in by_name["Cara"].rep_reasons
    assert "You both know Dana Lee" in by_name["Cara"].public_reasons
    assert not any("through" in reason for reason in by_name["Zed"].rep_reasons)
    assert "Said yes to 2 of 2 recent asks" in by_name["Veteran"].rep_reasons
    # Old calls do not count toward the cap.
    assert "2 of 2 calls left this quarter" in by_name["Veteran"].rep_reasons
    # The prospect never sees our capacity bookkeeping.
    assert not any("calls left" in r for m in by_name.values() for r in m.public_reasons)


def test_path_through_the_rep_and_through_an_advocate(world) -> None:
    request, zed = world["request"], world["zed"]
    rep_person = PersonFactory(full_name="Ravi Rep", kind=Person.Kind.EMPLOYEE, user=request.rep)
    RelationshipFactory(from_person=rep_person, to_person=request.prospect_person)
    RelationshipFactory(from_person=Person.objects.get(advocate=zed), to_person=rep_person)
    by_name = {m.advocate.user.first_name: m for m in matching.rank(request)}
    assert "Knows Percy through you" in by_name["Zed"].rep_reasons

    other = _plain("Olga")
    bob_person = Person.objects.get(advocate=world["bob"])
    RelationshipFactory(from_person=_person(other), to_person=bob_person)
    by_name = {m.advocate.user.first_name: m for m in matching.rank(request)}
    assert "Knows Percy through Bob Test (advocate)" in by_name["Olga"].rep_reasons


def test_calls_in_flight_count_toward_the_cap(world) -> None:
    alice = world["alice"]
    AskFactory(advocate=alice, status=Ask.Status.ACCEPTED)
    match = next(m for m in matching.rank(world["request"]) if m.advocate == alice)
    assert match.calls_left == 1
    assert "1 of 2 calls left this quarter" in match.rep_reasons
    AskFactory(advocate=alice, status=Ask.Status.COMPLETED, completed_at=timezone.now())
    assert alice not in [m.advocate for m in matching.rank(world["request"])]


def test_same_data_same_answer_and_ties_go_to_the_lower_id(world) -> None:
    twin = _plain("Twin")
    first, second = matching.rank(world["request"]), matching.rank(world["request"])
    assert [(m.advocate.pk, m.score) for m in first] == [(m.advocate.pk, m.score) for m in second]
    tied = [m.advocate.pk for m in first if m.score == 7]
    assert tied == sorted(tied)
    assert twin.pk in tied


def test_managers_weights_change_the_ranking(world) -> None:
    weights = MatchingWeights.current()
    weights.second_degree = 200
    weights.save()
    assert _names(matching.rank(world["request"]))[0] == "Cara"


def test_advocates_already_asked_for_this_request_are_not_suggested_again(world) -> None:
    AskFactory(request=world["request"], advocate=world["alice"], status=Ask.Status.DECLINED)
    assert "Alice" not in _names(matching.rank(world["request"]))


def test_band_keeps_anyone_who_can_still_win(world, monkeypatch) -> None:
    # With a tiny prefetch, the best advocate by willingness is still found.
    monkeypatch.setattr(band, "CANDIDATES", 1)
    assert _names(matching.rank(world["request"]))[:2] == ["Veteran", "Alice"]


def test_seniority_from_title() -> None:
    assert matching.seniority_from_title("VP Operations") == "vp"
    assert matching.seniority_from_title("Chief Information Officer") == "c_level"
    assert matching.seniority_from_title("Head of IT") == "director"
    assert matching.seniority_from_title("Engineering manager") == "manager"
    assert matching.seniority_from_title("Nurse") == ""


def test_the_cap_window_is_a_rolling_90_days(world) -> None:
    def with_calls(name: str, days_ago: int) -> Advocate:
        advocate = _plain(name)
        for _ in range(2):
            when = timezone.now() - timedelta(days=days_ago)
            AskFactory(advocate=advocate, status=Ask.Status.COMPLETED, completed_at=when)
        return advocate

    with_calls("Recent", 89)
    with_calls("Rested", 91)
    names = _names(matching.rank(world["request"], limit=50))
    assert "Recent" not in names
    assert "Rested" in names


# --- The kept band (references.matching module docstring) -------------------------------


def _prescore_queries(captured) -> int:
    return sum("AS prescore" in query["sql"] for query in captured.captured_queries)


def test_a_second_rank_reuses_the_band_and_gives_the_same_answer(world) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as cold:
        first = matching.rank(world["request"])
    with CaptureQueriesContext(connection) as warm:
        second = matching.rank(world["request"])
    assert (_prescore_queries(cold), _prescore_queries(warm)) == (1, 0)
    assert [(m.advocate.pk, m.score, m.rep_reasons) for m in first] == [
        (m.advocate.pk, m.score, m.rep_reasons) for m in second
    ]


def test_an_advocate_who_opts_in_is_matched_at_once(
    world, django_capture_on_commit_callbacks
) -> None:
    late = _advocate("Late", reference_opt_in=False)
    assert "Late" not in _names(matching.rank(world["request"], limit=50))
    with django_capture_on_commit_callbacks(execute=True):
        advocate_profile_update(advocate=late, data={"reference_opt_in": True})
    assert "Late" in _names(matching.rank(world["request"], limit=50))


def test_an_advocate_freed_by_a_decline_is_matched_at_once(
    world, django_capture_on_commit_callbacks
) -> None:
    busy = world["busy"]
    assert "Busy" not in _names(matching.rank(world["request"], limit=50))
    ask = Ask.objects.get(advocate=busy, status=Ask.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_answer(ask_id=ask.pk, advocate=busy, accept=False, reason="Too busy")
    assert "Busy" in _names(matching.rank(world["request"], limit=50))


def test_a_lifted_pause_is_matched_at_once(world, django_capture_on_commit_callbacks) -> None:
    paused = Advocate.objects.get(user__first_name="Paused")
    assert "Paused" not in _names(matching.rank(world["request"], limit=50))
    with django_capture_on_commit_callbacks(execute=True):
        services.reference_pause_set(advocate=paused, until=None)
    assert "Paused" in _names(matching.rank(world["request"], limit=50))


def test_new_weights_rank_afresh(world) -> None:
    assert _names(matching.rank(world["request"]))[0] != "Cara"
    weights = MatchingWeights.current()
    weights.second_degree = 200
    weights.save()
    assert _names(matching.rank(world["request"]))[0] == "Cara"


def test_a_band_that_can_no_longer_prove_its_top_is_computed_again(world, monkeypatch) -> None:
    # A band of one: Veteran and Alice lead (perfect fits); Middle fits on industry,
    # seniority and size only, too far below them to be in it.
    monkeypatch.setattr(band, "CANDIDATES", 1)
    _advocate("Middle")
    assert _names(matching.rank(world["request"], limit=1)) == ["Veteran"]
    # Both are asked for other requests, which drops no kept band (an ask only makes an
    # advocate busier): nobody left in the kept band can vouch for the top, so it is
    # computed again and Middle is found.
    for asked in (world["veteran"], world["alice"]):
        services.request_ask_directly(request=ReferenceRequestFactory(), advocate_id=asked.pk)
    assert _names(matching.rank(world["request"], limit=1)) == ["Middle"]


def test_no_band_is_kept_when_switched_off(world, settings) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MATCHING_BAND_SECONDS = 0
    matching.rank(world["request"])
    with CaptureQueriesContext(connection) as again:
        matching.rank(world["request"])
    assert _prescore_queries(again) == 1


def test_prospect_interests_answered_by_experience_tags_add_to_the_score(world) -> None:
    from advocates.services import graph

    percy = world["request"].prospect_person
    zed = world["zed"]
    _profile(zed, tags=[TagFactory(name="Data privacy"), TagFactory(name="ROI")])
    before = {m.advocate.user.first_name: m.score for m in matching.rank(world["request"])}
    # Typed in any case; "fast onboarding" is already a topic of the request: not twice.
    graph.person_interests_set(
        person=percy, names=["data privacy", "roi", "Fast Onboarding", "blockchain"]
    )

    by_name = {m.advocate.user.first_name: m for m in matching.rank(world["request"])}

    # Default interests weight: 8 per answered interest.
    assert by_name["Zed"].score == before["Zed"] + 16
    assert "Speaks to Percy's interest in data privacy, roi" in by_name["Zed"].rep_reasons
    assert "Can speak to your interest in data privacy, roi" in by_name["Zed"].public_reasons
    assert by_name["Alice"].score == before["Alice"]
    assert not any("interest" in reason for reason in by_name["Alice"].rep_reasons)


def test_interests_weight_and_a_changed_interest_rank_afresh(world) -> None:
    from advocates.services import graph

    _profile(world["zed"], tags=[TagFactory(name="Data privacy")])
    percy = world["request"].prospect_person
    assert _names(matching.rank(world["request"]))[0] != "Zed"
    weights = MatchingWeights.current()
    weights.interests = 500
    weights.save()
    assert _names(matching.rank(world["request"]))[0] != "Zed"  # no interest yet: no effect
    # The band kept for the request is not reused once the prospect's interests change.
    graph.person_interests_set(person=percy, names=["Data privacy"])
    assert _names(matching.rank(world["request"]))[0] == "Zed"


def test_interests_reach_past_a_tiny_band(world, monkeypatch) -> None:
    from advocates.services import graph

    monkeypatch.setattr(band, "CANDIDATES", 1)
    _profile(world["zed"], tags=[TagFactory(name="Data privacy")])
    weights = MatchingWeights.current()
    weights.interests = 500
    weights.save()
    graph.person_interests_set(person=world["request"].prospect_person, names=["data privacy"])
    assert _names(matching.rank(world["request"]))[0] == "Zed"
