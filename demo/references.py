"""Demo content for reference calls: a small relationship graph, one open request, and
one call booked in Vouch (times offered by Ada, one picked by the prospect).

Ada (advocate) knows Carla Diaz, a colleague, who knows the prospect Percy: the demo
match for Percy shows "Knows Percy through Carla Diaz (your colleague)".
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate, Company, Person, Product, Tag, User
from advocates.services import graph
from references import services
from references.models import MatchingWeights, ReferenceRequest

PROSPECT_EMAIL = "percy@northwind.example"
BOOKED_EMAIL = "quinn@contoso.example"


@transaction.atomic
def load(stdout) -> None:
    rep = User.objects.filter(email="rep@demo.vouch").first()
    ada = (
        Advocate.objects.select_related("user", "company")
        .filter(user__email="advocate@demo.vouch")
        .first()
    )
    dana = (
        Advocate.objects.select_related("user", "company")
        .filter(user__email="dana@demo.vouch")
        .first()
    )
    if rep is None or ada is None or dana is None:
        return
    MatchingWeights.current()
    percy = graph.person_get_or_create(
        full_name="Percy Prospect",
        email=PROSPECT_EMAIL,
        company_name="Northwind Clinics",
        title="CIO",
        kind=Person.Kind.PROSPECT,
    )
    carla = graph.person_get_or_create(
        full_name="Carla Diaz",
        email="carla@demo.vouch",
        company_name="Vouch",
        title="Solutions engineer",
        kind=Person.Kind.EMPLOYEE,
    )
    rep_person = graph.person_for_user(rep)
    ada_person = graph.person_for_advocate(ada)
    dana_person = graph.person_for_advocate(dana)
    someone = graph.person_get_or_create(
        full_name="Nora North",
        linkedin_url="https://www.linkedin.com/in/nora-north-demo",
        company_name="Northwind Clinics",
        title="Head of Nursing IT",
    )
    for a, b in (
        (carla, percy),
        (ada_person, carla),
        (rep_person, carla),
        (dana_person, someone),
        (someone, percy),
    ):
        graph.relationship_add(from_person=a, to_person=b)

    if not ReferenceRequest.objects.filter(rep=rep, prospect_email=PROSPECT_EMAIL).exists():
        services.request_create(
            rep=rep,
            prospect_name="Percy Prospect",
            prospect_email=PROSPECT_EMAIL,
            prospect_company="Northwind Clinics",
            prospect_title="CIO",
            prospect_industry=ada.industry or "Healthcare",
            prospect_company_size=Company.SizeBand.LARGE,
            opportunity_name="Northwind Clinics — Analytics rollout",
            opportunity_amount=Decimal("84000"),
            opportunity_stage=ReferenceRequest.Stage.EVALUATION,
            call_type=ReferenceRequest.CallType.VIDEO,
            needed_by=timezone.localdate() + timedelta(days=14),
            products=list(Product.objects.filter(name="Analytics")),
            topics=list(Tag.objects.filter(name__in=["Fast onboarding", "Great support"])),
            notes="Percy worries about onboarding 40 clinics at once.",
        )
    _booked_call(rep=rep, ada=ada)
    stdout.write("References: demo graph, Percy's open request and Quinn's booked call ready.")


def _booked_call(*, rep: User, ada: Advocate) -> None:
    """Ada agreed to talk with Quinn, offered three times, and Quinn picked the second."""
    if ReferenceRequest.objects.filter(rep=rep, prospect_email=BOOKED_EMAIL).exists():
        return
    request = services.request_create(
        rep=rep,
        prospect_name="Quinn Quest",
        prospect_email=BOOKED_EMAIL,
        prospect_company="Contoso Care",
        prospect_title="COO",
        prospect_industry=ada.industry or "Healthcare",
        opportunity_name="Contoso Care — Scheduling suite",
        opportunity_amount=Decimal("52000"),
        opportunity_stage=ReferenceRequest.Stage.PROPOSAL,
        call_type=ReferenceRequest.CallType.VIDEO,
        needed_by=timezone.localdate() + timedelta(days=10),
    )
    try:
        ask = services.request_ask_directly(request=request, advocate_id=ada.pk)
        services.ask_answer(ask_id=ask.pk, advocate=ada, accept=True)
        today = timezone.localdate()
        meeting = services.meeting_offer(
            ask_id=ask.pk,
            advocate=ada,
            offer=services.Offer(
                time_zone="Europe/Berlin",
                slots=tuple(
                    datetime.combine(today + timedelta(days=days), time(hour))
                    for days, hour in ((2, 10), (3, 15), (5, 11))
                ),
                video_url="https://meet.example.com/vouch-demo-call",
            ),
        )
        services.meeting_pick(
            request=request,
            slot_id=meeting.slots.all()[1].pk,
            prospect_time_zone="America/New_York",
        )
    except services.ReferenceError:
        return  # Ada is at her cap or paused in this database: no booked call then
