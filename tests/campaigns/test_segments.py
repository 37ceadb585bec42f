"""Segments: a hand-built set of advocates with the members each filter must select,
the editor (live count, bad input), the member list, delete, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from campaigns.forms import SegmentForm
from campaigns.models import Campaign, Segment
from campaigns.segments import (
    SegmentFilterError,
    SegmentFilters,
    segment_advocates,
    segment_describe,
    segments_count,
)
from campaigns.services.segments import SegmentInUse, segment_delete, segment_save
from references.models import Ask, ReferencePause
from referrals.models import RejectionReason, Stage
from tests.challenges.factories import LevelFactory
from tests.factories import AdvocateFactory, CompanyFactory, ProductFactory, TagFactory
from tests.references.factories import AskFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import give_points


def _set(advocate: Advocate, lifetime_points: int = 0, **values) -> None:
    # Points through the ledger; the columns console.ams keeps (NPS, AMS, activity) set
    # directly, so each criterion is tested on its own.
    if lifetime_points:
        give_points(advocate, lifetime_points)
    Advocate.objects.filter(pk=advocate.pk).update(**values)


@pytest.fixture
def world(db):
    """Five active advocates (ann, bob, cid, dee, eve) and one paused one (fay)."""
    now = timezone.now()
    acme = CompanyFactory(name="Acme", domain="acme.example", industry="Software")
    globex = CompanyFactory(name="Globex", domain="globex.example", industry="Healthcare")
    onboard, security = TagFactory(name="Onboarding"), TagFactory(name="Security")
    core, api = ProductFactory(name="Core"), ProductFactory(name="API")
    LevelFactory(name="Insider", threshold=0)
    champion = LevelFactory(name="Champion", threshold=1000)

    def make(name, company, industry, seniority, **extra):
        return AdvocateFactory(
            user__first_name=name.title(),
            user__last_name="Test",
            user__email=f"{name}@example.com",
            company=company,
            industry=industry,
            seniority=seniority,
            **extra,
        )

    ann = make("ann", acme, "Software", "vp", reference_opt_in=True)
    bob = make("bob", acme, "Software", "manager")
    cid = make("cid", globex, "Healthcare", "director", reference_opt_in=True)
    dee = make("dee", globex, "Healthcare", "c_level", reference_opt_in=True)
    eve = make("eve", acme, "Software", "individual", reference_opt_in=True)
    eve.reference_max_calls_per_90d = 1
    eve.save(update_fields=["reference_max_calls_per_90d"])
    fay = make("fay", acme, "Software", "vp", status=Advocate.Status.PAUSED)

    ann.tags.add(onboard)
    bob.tags.add(security)
    dee.tags.add(onboard, security)
    ann.products.add(core)
    bob.products.add(api)
    cid.products.add(core, api)
    fay.tags.add(onboard)

    _set(ann, lifetime_points=1200, nps_score=10, ams=80, last_active_at=now - timedelta(days=5))
    _set(bob, lifetime_points=100, nps_score=9, ams=10, last_active_at=now - timedelta(days=100))
    _set(cid, lifetime_points=0, nps_score=7, ams=40, last_active_at=None)
    _set(dee, lifetime_points=2000, nps_score=3, ams=0, last_active_at=now - timedelta(days=40))
    _set(eve, lifetime_points=50, nps_score=None, ams=100, last_active_at=now - timedelta(days=1))
    _set(fay, lifetime_points=5000, nps_score=10, ams=90, last_active_at=now)

    ReferralFactory(advocate=ann)
    ReferralFactory(advocate=bob, stage=Stage.REJECTED, rejection_reason=RejectionReason.DUPLICATE)
    ReferralFactory(advocate=dee, stage=Stage.WON, won_at=now)
    ReferralFactory(advocate=fay)
    AskFactory(advocate=ann, status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=20))
    AskFactory(advocate=eve, status=Ask.Status.COMPLETED, completed_at=now - timedelta(days=10))
    AskFactory(advocate=dee, status=Ask.Status.PENDING)
    ReferencePause.objects.create(advocate=cid, until=timezone.localdate() + timedelta(days=30))
    return {
        "ann": ann,
        "bob": bob,
        "cid": cid,
        "dee": dee,
        "eve": eve,
        "fay": fay,
        "acme": acme,
        "globex": globex,
        "onboard": onboard,
        "security": security,
        "core": core,
        "api": api,
        "champion": champion,
    }


def members(filters: dict) -> set[str]:
    return {a.user.first_name.lower() for a in segment_advocates(filters).select_related("user")}


def days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


CASES = [
    ({}, {"ann", "bob", "cid", "dee", "eve"}),
    ({"industries": ["Healthcare"]}, {"cid", "dee"}),
    ({"seniorities": ["vp", "c_level"]}, {"ann", "dee"}),
    ({"nps": ["promoter"]}, {"ann", "bob"}),
    ({"nps": ["passive"]}, {"cid"}),
    ({"nps": ["detractor"]}, {"dee"}),
    ({"nps": ["none"]}, {"eve"}),
    ({"nps": ["promoter", "none"]}, {"ann", "bob", "eve"}),
    ({"ams_min": 40}, {"ann", "cid", "eve"}),
    ({"ams_max": 40}, {"bob", "cid", "dee"}),
    ({"ams_min": 10, "ams_max": 40}, {"bob", "cid"}),
    ({"active_after": "-30"}, {"ann", "eve"}),
    ({"active_before": "-30"}, {"bob", "cid", "dee"}),  # cid: never active
    ({"active_after": "-60", "active_before": "-30"}, {"dee"}),
    ({"has_referred": True}, {"ann", "dee"}),  # bob's only referral was rejected
    ({"has_referred": False}, {"bob", "cid", "eve"}),
    ({"has_reference": True}, {"ann", "eve"}),
    ({"has_reference": False}, {"bob", "cid", "dee"}),
    # cid is on a break, dee has a request waiting, eve is at her cap of 1, bob opted out
    ({"reference_available": True}, {"ann"}),
    ({"reference_available": False}, {"bob", "cid", "dee", "eve"}),
    ({"nps": ["promoter"], "has_referred": False}, {"bob"}),
    ({"industries": ["Software"], "ams_min": 50, "has_reference": True}, {"ann", "eve"}),
]


@pytest.mark.parametrize(("filters", "expected"), CASES)
def test_each_filter_selects_the_expected_members(world, filters, expected) -> None:
    filters = {
        key: days_ago(-int(value)) if key.startswith("active_") else value
        for key, value in filters.items()
    }
    assert members(filters) == expected


def test_filters_by_related_ids(world) -> None:
    assert members({"companies": [world["acme"].pk]}) == {"ann", "bob", "eve"}
    assert members({"tags": [world["onboard"].pk]}) == {"ann", "dee"}
    assert members({"tags": [world["onboard"].pk, world["security"].pk]}) == {"ann", "bob", "dee"}
    assert members({"products": [world["api"].pk]}) == {"bob", "cid"}
    assert members({"level": world["champion"].pk}) == {"ann", "dee"}
    # A level deleted since the segment was saved matches nobody (never everyone).
    assert members({"level": 999999}) == set()


def test_no_duplicates_when_several_tags_match(world) -> None:
    both = [world["onboard"].pk, world["security"].pk]
    assert segment_advocates({"tags": both}).count() == 3


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "Unknown filter"),
        ({"nps": ["fans"]}, "Unknown NPS group"),
        ({"seniorities": ["king"]}, "Unknown seniority"),
        ({"ams_min": 80, "ams_max": 20}, "nobody could match"),
        ({"ams_min": 120}, "0 to 100"),
        ({"active_after": "2026-05-01", "active_before": "2026-04-01"}, "nobody could match"),
        ({"has_referred": "maybe"}, "Unreadable"),
        ({"companies": "acme"}, "Unreadable"),
    ],
)
def test_malformed_filters_raise_instead_of_selecting_everyone(filters, message) -> None:
    with pytest.raises(SegmentFilterError, match=message):
        segment_advocates(filters)


def test_filters_round_trip_through_json() -> None:
    spec = SegmentFilters.from_dict(
        {"nps": ["promoter"], "has_referred": False, "active_after": "2026-01-02", "tags": [3, 1]}
    )
    assert spec.to_dict() == {
        "tags": [1, 3],
        "nps": ["promoter"],
        "active_after": "2026-01-02",
        "has_referred": False,
    }
    assert SegmentFilters.from_dict(spec.to_dict()) == spec


def test_segments_count_counts_each_segment_in_one_query(world) -> None:
    promoters = Segment.objects.create(name="Promoters", filters={"nps": ["promoter"]})
    everyone = Segment.objects.create(name="Everyone", filters={})
    broken = Segment.objects.create(name="Broken", filters={"nps": ["fans"]})
    quiet = Segment.objects.create(
        name="Quiet promoters", filters={"nps": ["promoter"], "has_referred": False}
    )
    with CaptureQueriesContext(connection) as queries:
        counts = segments_count([promoters, everyone, broken, quiet])
    assert len(queries) == 1
    assert counts == {promoters.pk: 2, everyone.pk: 5, broken.pk: None, quiet.pk: 1}


# --- The pages ---------------------------------------------------------------------------


def _queries(client, url: str, **extra) -> int:
    client.get(url, **extra)  # warm: the session and the cached program settings
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(queries)


def test_list_shows_member_counts_with_constant_queries(world, manager_client) -> None:
    Segment.objects.create(name="Promoters", filters={"nps": ["promoter"]})
    url = reverse("campaigns:segment_list")
    few = _queries(manager_client, url)
    for index in range(6):
        Segment.objects.create(name=f"Segment {index}", filters={"has_referred": bool(index % 2)})
    many = _queries(manager_client, url)
    assert few == many
    page = manager_client.get(url).content.decode()
    assert "Promoters" in page
    assert "Segment 5" in page


def test_list_counts_are_cached_until_the_segment_changes(world, manager, manager_client) -> None:
    from django.core.cache import cache

    segment = Segment.objects.create(name="Software", filters={"industries": ["Software"]})
    url = reverse("campaigns:segment_list")

    def shown() -> int:
        rows = manager_client.get(url).context["rows"]
        return next(row["count"] for row in rows if row["segment"].pk == segment.pk)

    assert shown() == 3  # ann, bob and eve (fay is paused)
    AdvocateFactory(industry="Software")
    assert shown() == 3  # the list's figure is a few minutes old at most
    detail = manager_client.get(reverse("campaigns:segment_detail", args=[segment.pk]))
    assert detail.context["page"].paginator.count == 4  # the segment's own page is live

    segment_save(
        name="Software", filters=SegmentFilters(industries=("Software",)), segment_id=segment.pk
    )
    assert shown() == 4  # an edited segment is counted afresh
    cache.clear()
    assert shown() == 4


def test_create_saves_the_filter(world, manager, manager_client) -> None:
    response = manager_client.post(
        reverse("campaigns:segment_create"),
        {
            "name": "Promoters who have not referred",
            "companies": "acme.example, Globex",
            "nps": ["promoter"],
            "has_referred": "no",
            "has_reference": "",
            "reference_available": "",
        },
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:segment_detail", args=[segment.pk])
    assert segment.filters == {
        "companies": sorted([world["acme"].pk, world["globex"].pk]),
        "nps": ["promoter"],
        "has_referred": False,
    }
    assert segment.created_by == manager
    assert members(segment.filters) == {"bob"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "ams_min": "80", "ams_max": "20"}, "nobody could match"),
        ({"name": "X", "companies": "Initech"}, "No company is called Initech"),
        ({"name": "X", "nps": ["fans"]}, "Select a valid choice"),
        ({"name": "X", "ams_min": "150"}, "less than or equal to 100"),
        ({"name": "X", "active_after": "not a date"}, "Enter a valid date"),
        ({"name": "", "nps": ["promoter"]}, "This field is required"),
    ],
)
def test_bad_filter_input_is_a_message_and_saves_nothing(world, manager_client, data, message):
    response = manager_client.post(reverse("campaigns:segment_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Segment.objects.exists()


def test_edit_changes_the_filter(world, manager_client) -> None:
    segment = Segment.objects.create(name="Promoters", filters={"nps": ["promoter"]})
    page = manager_client.get(reverse("campaigns:segment_edit", args=[segment.pk]))
    assert page.status_code == 200
    assert 'value="promoter" checked' in page.content.decode().replace("\n", " ") or (
        "checked" in page.content.decode()
    )
    assert page.context["count"] == 2
    response = manager_client.post(
        reverse("campaigns:segment_edit", args=[segment.pk]),
        {"name": "Detractors", "nps": ["detractor"]},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.filters) == ("Detractors", {"nps": ["detractor"]})


def test_live_count_returns_only_the_fragment(world, manager_client) -> None:
    response = manager_client.get(
        reverse("campaigns:segment_create"),
        {"name": "", "nps": ["promoter", "none"]},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<div id="segment-count"')
    assert "<html" not in body
    assert "<form" not in body
    assert ">3<" in body
    assert not Segment.objects.exists()


def test_live_count_with_a_bad_filter_says_so(world, manager_client) -> None:
    response = manager_client.get(
        reverse("campaigns:segment_create"),
        {"ams_min": "90", "ams_max": "10"},
        HTTP_HX_REQUEST="true",
    )
    assert "Fix the highlighted filter" in response.content.decode()


def test_count_button_works_without_javascript(world, manager_client) -> None:
    response = manager_client.get(
        reverse("campaigns:segment_create"), {"count": "1", "name": "", "has_reference": "yes"}
    )
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert response.context["count"] == 2
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"count": "1", "industries": ["Software"], "seniorities": ["vp"], "has_referred": "yes"},
        {"ams_min": "500", "active_after": "nope", "tags": ["99999"], "level": "x"},
    ],
)
def test_the_editor_is_djangos_markup(world, data) -> None:
    """The editor's form is written by core.renderers: the markup is Django's own."""
    kwargs = {"data": data} if data else {}
    fast, slow = SegmentForm(**kwargs), SegmentForm(**kwargs, renderer=DjangoTemplates())
    assert str(fast) == str(slow)


def test_detail_lists_members_with_ams_and_constant_queries(world, manager_client) -> None:
    segment = Segment.objects.create(name="Software", filters={"industries": ["Software"]})
    url = reverse("campaigns:segment_detail", args=[segment.pk])
    response = manager_client.get(url)
    body = response.content.decode()
    assert "3 members" in body
    assert "Ann Test" in body
    assert "Eve Test" in body
    assert "Cid Test" not in body
    few = _queries(manager_client, url)
    for index in range(30):
        AdvocateFactory(industry="Software", user__last_name=f"Extra{index:02d}")
    many = _queries(manager_client, url)
    assert few == many
    # The members list pages through htmx as a fragment.
    fragment = manager_client.get(url, {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.strip().startswith('<section class="card console-section" id="segment-members"')
    assert "Page 2 of 2" in fragment


def test_delete_asks_then_deletes(world, manager_client) -> None:
    segment = Segment.objects.create(name="Old", filters={})
    url = reverse("campaigns:segment_delete", args=[segment.pk])
    assert "Delete segment" in manager_client.get(url).content.decode()
    response = manager_client.post(url)
    assert response.status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_delete_is_refused_while_a_campaign_uses_it(world, manager_client) -> None:
    segment = Segment.objects.create(name="Audience", filters={})
    Campaign.objects.create(
        name="Spring drive",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        segment=segment,
        subject="s",
        body="b",
    )
    url = reverse("campaigns:segment_delete", args=[segment.pk])
    assert "cannot be deleted" in manager_client.get(url).content.decode()
    response = manager_client.post(url, follow=True)
    assert "audience of “Spring drive”" in response.content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()
    with pytest.raises(SegmentInUse):
        segment_delete(segment_id=segment.pk)


def test_export_streams_members_with_formulas_neutralised(world, manager_client) -> None:
    Advocate.objects.filter(pk=world["ann"].pk).update(title='=HYPERLINK("http://x")')
    segment = Segment.objects.create(name="Promoters", filters={"nps": ["promoter"]})
    response = manager_client.get(reverse("campaigns:segment_export", args=[segment.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["email"] for row in rows] == ["ann@example.com", "bob@example.com"]
    assert rows[0]["title"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["company"] == "Acme"
    assert (rows[0]["nps"], rows[0]["ams"]) == ("10", "80")
    assert rows[1]["last_active_at"].startswith(
        timezone.localtime(Advocate.objects.get(pk=world["bob"].pk).last_active_at)
        .date()
        .isoformat()
    )


def test_filters_by_group_membership(world, manager_client) -> None:
    from advocates.models import GroupMembership
    from tests.factories import GroupFactory, GroupMembershipFactory

    beta, emea = GroupFactory(name="Beta"), GroupFactory(name="EMEA")
    GroupMembershipFactory(group=beta, advocate=world["ann"])
    GroupMembershipFactory(group=emea, advocate=world["bob"])
    GroupMembershipFactory(group=emea, advocate=world["fay"])  # paused: never selected
    # A request waiting for a manager is not membership.
    GroupMembershipFactory(group=beta, advocate=world["cid"], status=GroupMembership.Status.PENDING)
    assert members({"groups": [beta.pk]}) == {"ann"}
    assert members({"groups": [beta.pk, emea.pk]}) == {"ann", "bob"}
    assert "Member of (any): Beta, EMEA" in segment_describe({"groups": [beta.pk, emea.pk]})

    manager_client.post(
        reverse("campaigns:segment_create"), {"name": "Beta people", "groups": [beta.pk]}
    )
    segment = Segment.objects.get(name="Beta people")
    assert segment.filters == {"groups": [beta.pk]}
