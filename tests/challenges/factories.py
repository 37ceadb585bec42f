"""Factories for the challenges app's tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from challenges.models import Challenge, Level, NPSResponse, Submission
from tests.factories import AdvocateFactory


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Level
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Level {n}")
    threshold = factory.Sequence(lambda n: 1000 * (n + 1))


class ChallengeFactory(factory.django.DjangoModelFactory):
    """A published challenge open now to everyone, reviewed by a manager, once per advocate."""

    class Meta:
        model = Challenge

    title = factory.Sequence(lambda n: f"Challenge {n}")
    description = "Do the thing."
    kind = Challenge.Kind.TESTIMONIAL
    points = 100
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    status = Challenge.Status.PUBLISHED
    completion_limit = 1
    auto_approve = False


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    challenge = factory.SubFactory(ChallengeFactory)
    advocate = factory.SubFactory(AdvocateFactory)
    text = "I did it."


class NPSResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NPSResponse

    advocate = factory.SubFactory(AdvocateFactory)
    score = 9
