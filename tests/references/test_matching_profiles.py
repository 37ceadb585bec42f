"""The matching profiles ranking reads (advocates.models.MatchingProfile) follow every write
of what they hold, so a first rank (its band computed from them) sees the write at once.

The ranking tests keep a band of one (``CANDIDATES = 1``) and keep no band between
calls: whoever the profiles leave more than the accept-rate weight below the best is
never scored, so a stale profile would show as the wrong first match.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advocates import links
from advocates.models import Advocate, Company, MatchingProfile
from advocates.services import advocate_profile_update, invitation_accept
from advocates.services.matching_profiles import matching_profiles_rebuild
from integrations.crm import base, inbound
from integrations.crm.models import CrmConnection
from integrations.crm.providers import provider_for
from integrations.crm.tokens import BOX
from references import matching, services
from references.matching import band
from references.models import Ask, MatchingWeights
from tests.factories import (
    AdvocateFactory,
    CompanyFactory,
    InvitationFactory,
    ProductFactory,
    TagFactory,
)
from tests.references.factories import AskFactory, ReferenceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _band_of_one(monkeypatch, settings) -> None:
    monkeypatch.setattr(band, "CANDIDATES", 1)
    settings.MATCHING_BAND_SECONDS = 0


def _first(request) -> str:
    (match,) = matching.rank(request, limit=1)
    return match.advocate.user.first_name


def _profile(advocate: Advocate) -> MatchingProfile | None:
    return MatchingProfile.objects.filter(advocate=advocate).first()


@pytest.fixture
def request_for_health():
    """A Healthcare prospect at a large company, VP Operations, who wants Analytics."""
    request = ReferenceRequestFactory(
        prospect_industry="Healthcare",
        prospect_title="VP Operations",
        prospect_company_size=Company.SizeBand.LARGE,
    )
    request.products.set([ProductFactory(name="Analytics")])
    return request


def _advocate(name: str, **profile) -> Advocate:
    defaults = {"industry": "Software", "seniority": "", "reference_opt_in": True}
    return AdvocateFactory(user__first_name=name, **(defaults | profile))


def test_a_product_added_on_the_profile_makes_a_first_match(request_for_health) -> None:
    weights = MatchingWeights.current()
    weights.products = 100
    weights.save()
    _advocate("Hana", industry="Healthcare")
    late = _advocate("Lou")
    assert _first(request_for_health) == "Hana"

    advocate_profile_update(advocate=late, data={"products": request_for_health.products.all()})

    assert _profile(late).products.split() == [str(request_for_health.products.get().pk)]
    assert _first(request_for_health) == "Lou"


def test_profile_fields_and_tags_reach_the_profile(request_for_health) -> None:
    advocate = _advocate("Lou")
    tag = TagFactory(name="Fast onboarding")
    advocate_profile_update(
        advocate=advocate,
        data={"industry": "Healthcare", "seniority": Advocate.Seniority.VP, "tags": [tag]},
    )
    profile = _profile(advocate)
    assert (profile.industry, profile.seniority, profile.tags) == (
        "healthcare",
        "vp",
        f" {tag.pk} ",
    )
    assert _first(request_for_health) == "Lou"

    advocate_profile_update(advocate=advocate, data={"reference_opt_in": False})
    assert _profile(advocate) is None


def test_a_blank_industry_is_the_companys(request_for_health) -> None:
    advocate = _advocate("Lou", industry="", company=CompanyFactory(industry="HealthCare"))
    assert _profile(advocate).industry == "healthcare"


def _sync_company(company: Company, **changes) -> None:
    connection = CrmConnection.objects.create(
        provider="salesforce", access_token_encrypted=BOX.encrypt("t")
    )
    record = base.Company(
        **{
            "external_id": "001000001",
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "employees": 120,
            "owner_id": "",
            "modified_at": datetime(2026, 11, 2, tzinfo=UTC),
        }
        | changes
    )
    inbound.apply(connection, provider_for("salesforce"), "companies", [record])


def test_a_company_synced_from_the_crm_changes_its_advocates_profiles(request_for_health) -> None:
    # Ada leads on seniority and size (25 points, more than accept rate's 15); Lou's
    # company moves into the prospect's industry (30).
    _advocate("Ada", seniority="vp", company=CompanyFactory(size_band=Company.SizeBand.LARGE))
    company = CompanyFactory(industry="Software", size_band=Company.SizeBand.SMALL)
    lou = _advocate("Lou", industry="", company=company)
    assert _first(request_for_health) == "Ada"

    _sync_company(company, industry="Healthcare", employees=1000)

    assert (_profile(lou).industry, _profile(lou).size_band) == ("healthcare", "501-5000")
    assert _first(request_for_health) == "Lou"


def _admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_a_company_saved_in_the_admin_changes_its_advocates_profiles(
    admin_user, request_for_health
) -> None:
    _advocate("Ada", seniority="vp", company=CompanyFactory(size_band=Company.SizeBand.LARGE))
    company = CompanyFactory(industry="Software", size_band=Company.SizeBand.SMALL)
    _advocate("Lou", industry="", company=company)
    assert _first(request_for_health) == "Ada"

    response = _admin_client(admin_user).post(
        reverse("admin:advocates_company_change", args=[company.pk]),
        {"name": company.name, "domain": company.domain, "industry": "Healthcare"},
    )

    assert response.status_code == 302
    assert _first(request_for_health) == "Lou"


def test_an_advocate_saved_in_the_admin_changes_their_profile(
    admin_user, request_for_health
) -> None:
    _advocate("Ada", seniority="vp", company=CompanyFactory(size_band=Company.SizeBand.LARGE))
    lou = _advocate("Lou")
    assert _first(request_for_health) == "Ada"
    client = _admin_client(admin_user)
    url = reverse("admin:advocates_advocate_change", args=[lou.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("avatar", "avatar_thumbnail", "owner_rep")
    }
    data.update(
        company=lou.company_id,
        industry="Healthcare",
        products=[request_for_health.products.get().pk],
    )

    assert client.post(url, data).status_code == 302

    assert _profile(lou).industry == "healthcare"
    assert _first(request_for_health) == "Lou"
    data["status"] = Advocate.Status.PAUSED
    assert client.post(url, data).status_code == 302
    assert _profile(lou) is None


def test_a_product_deleted_in_the_admin_leaves_the_profiles(admin_user) -> None:
    product = ProductFactory(name="Legacy")
    advocate = _advocate("Lou")
    advocate_profile_update(advocate=advocate, data={"products": [product]})
    assert _profile(advocate).products == f" {product.pk} "

    response = _admin_client(admin_user).post(
        reverse("admin:advocates_product_delete", args=[product.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert _profile(advocate).products == ""


def test_a_returning_advocate_who_joins_takes_calls_again(rep, request_for_health) -> None:
    weights = MatchingWeights.current()
    weights.products = 100
    weights.save()
    _advocate("Hana", industry="Healthcare")
    returning = _advocate("Jo", status=Advocate.Status.LEFT)
    advocate_profile_update(
        advocate=returning, data={"products": request_for_health.products.all()}
    )
    assert _profile(returning) is None
    invitation = InvitationFactory(email=returning.user.email, invited_by=rep)

    invitation_accept(token=links.invitation_token(invitation), user=returning.user)

    assert _profile(returning) is not None
    assert _first(request_for_health) == "Jo"


# --- What the ranking reads live: asks and pauses, through their services ---------------


def test_a_call_completed_fills_a_cap_at_once(request_for_health) -> None:
    _advocate("Ada", seniority="vp", company=CompanyFactory(size_band=Company.SizeBand.LARGE))
    lou = _advocate("Lou", industry="Healthcare", reference_max_calls_per_90d=1)
    ask = AskFactory(advocate=lou, status=Ask.Status.ACCEPTED)
    assert _first(request_for_health) != "Lou"  # a call in flight fills a cap of one

    services.call_settle(request=ask.request, ask=ask, completed=False)
    assert _first(request_for_health) == "Lou"  # a missed call frees it

    again = AskFactory(advocate=lou, status=Ask.Status.ACCEPTED)
    services.call_settle(request=again.request, ask=again, completed=True)
    assert _first(request_for_health) == "Ada"  # a held call counts for 90 days


def test_a_decline_and_a_pause_change_the_first_rank(
    request_for_health, django_capture_on_commit_callbacks
) -> None:
    _advocate("Ada", seniority="vp", company=CompanyFactory(size_band=Company.SizeBand.LARGE))
    lou = _advocate("Lou", industry="Healthcare")
    ask = AskFactory(advocate=lou, status=Ask.Status.PENDING)
    assert _first(request_for_health) == "Ada"
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_answer(ask_id=ask.pk, advocate=lou, accept=False, reason="Busy")
    assert _first(request_for_health) == "Lou"

    services.reference_pause_set(advocate=lou, until=timezone.localdate() + timedelta(days=7))
    assert _first(request_for_health) == "Ada"


def test_a_rebuild_changes_nothing_after_the_services_wrote(request_for_health) -> None:
    for name in ("Ada", "Bo", "Cy"):
        advocate = _advocate(name, company=CompanyFactory(industry="Retail"))
        advocate_profile_update(
            advocate=advocate,
            data={"products": request_for_health.products.all(), "industry": ""},
        )
    _advocate("Dee", reference_opt_in=False)
    kept = sorted(MatchingProfile.objects.values_list())
    matching_profiles_rebuild()
    assert sorted(MatchingProfile.objects.values_list()) == kept
    assert len(kept) == 3
