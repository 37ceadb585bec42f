from __future__ import annotations

import factory
from django.utils import timezone

from referrals.models import ImportJob, Method, Referral, RewardRule, Stage
from referrals.services.figures import referral_figures_refresh
from referrals.services.summary import referral_counts_refresh
from tests.factories import AdvocateFactory


class ReferralFactory(factory.django.DjangoModelFactory):
    """A bare referral row (bypasses the service: use it for reads, KPIs and lists).

    The advocate's ``referral_count`` is recounted and the KPIs' rollups of its day and
    advocate kept, as the services do (after writing its rewards directly, call
    ``referral_figures_refresh`` as the services do)."""

    class Meta:
        model = Referral
        skip_postgeneration_save = True

    advocate = factory.SubFactory(AdvocateFactory)
    method = Method.LEAD_FORM
    referred_name = factory.Sequence(lambda n: f"Lead {n}")
    referred_email = factory.Sequence(lambda n: f"lead{n}@prospect{n}.example")
    referred_company = factory.Sequence(lambda n: f"Prospect {n}")
    referred_domain = factory.LazyAttribute(lambda o: o.referred_email.rsplit("@", 1)[1])
    stage = Stage.SUBMITTED
    owner_rep = factory.LazyAttribute(lambda o: o.advocate.owner_rep)
    created_at = factory.LazyFunction(timezone.now)
    stage_changed_at = factory.LazyAttribute(lambda o: o.created_at)

    @factory.post_generation
    def counted(obj: Referral, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            referral_counts_refresh(advocate_ids=[obj.advocate_id])
            obj.advocate.refresh_from_db(fields=["referral_count"])

    @factory.post_generation
    def kpi_rollups(obj: Referral, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            referral_figures_refresh(referral_ids=[obj.pk])


class RewardRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RewardRule

    name = "Program rule"
    kind = RewardRule.Kind.FIXED
    fixed_points = 500


class ImportJobFactory(factory.django.DjangoModelFactory):
    """A console import job as its task leaves it (no file: it has been read)."""

    class Meta:
        model = ImportJob

    kind = ImportJob.Kind.REFERRALS
    filename = factory.Sequence(lambda n: f"crm-export-{n}.csv")
    status = ImportJob.Status.DONE
    rows_total = 1000
    rows_read = 1000
