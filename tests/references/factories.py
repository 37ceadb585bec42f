"""Factories for reference-call tests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from advocates.models import Person, Relationship
from references.models import Ask, Candidate, Meeting, ReferenceRequest
from references.services.summary import reference_counts_refresh
from tests.factories import AdvocateFactory, RepFactory


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    full_name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    kind = Person.Kind.CONTACT


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    from_person = factory.SubFactory(PersonFactory)
    to_person = factory.SubFactory(PersonFactory)
    source = Relationship.Source.MANUAL


class ReferenceRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferenceRequest
        skip_postgeneration_save = True

    rep = factory.SubFactory(RepFactory)
    prospect_name = "Percy Prospect"
    prospect_email = factory.Sequence(lambda n: f"prospect{n}@prospect.example")
    prospect_company = "Acme Clinics"
    prospect_title = "VP Operations"
    prospect_industry = "Healthcare"
    opportunity_name = "Acme rollout"
    opportunity_amount = Decimal("50000")
    opportunity_stage = ReferenceRequest.Stage.EVALUATION
    call_type = ReferenceRequest.CallType.VIDEO
    needed_by = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=10))


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    request = factory.SubFactory(ReferenceRequestFactory)
    advocate = factory.SubFactory(AdvocateFactory, reference_opt_in=True)
    rank = factory.Sequence(lambda n: n + 1)
    score = 10
    reasons = factory.LazyFunction(lambda: ["Healthcare like Acme"])
    public_reasons = factory.LazyFunction(lambda: ["Also in Healthcare"])


class AskFactory(factory.django.DjangoModelFactory):
    """A bare ask row; the advocate's ``reference_count`` is recounted, as the services
    do, so segment filters read a consistent program."""

    class Meta:
        model = Ask
        skip_postgeneration_save = True

    request = factory.SubFactory(ReferenceRequestFactory, status=ReferenceRequest.Status.ASKED)
    advocate = factory.SubFactory(AdvocateFactory, reference_opt_in=True)
    status = Ask.Status.PENDING
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=72))

    @factory.post_generation
    def counted(obj: Ask, create: bool, extracted: object, **kwargs: object) -> None:
        if create and obj.status == Ask.Status.COMPLETED:
            reference_counts_refresh(advocate_ids=[obj.advocate_id])
            obj.advocate.refresh_from_db(fields=["reference_count"])


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    ask = factory.SubFactory(AskFactory, status=Ask.Status.ACCEPTED)
    uid = factory.Sequence(lambda n: f"meeting-{n}@vouch.test")
    time_zone = "Europe/Berlin"
    video_url = "https://zoom.us/j/1234567890"
