"""The burnout guard: who may be asked for a reference call now, and why not.

An advocate may be asked when they are active, opted in, not paused, have no ask
waiting for their answer, and are under their own cap of calls per 90 days (calls in
flight count toward it).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Advocate
from references.models import Ask, ReferencePause

CAP_WINDOW = timedelta(days=90)


def load_subquery(now=None) -> Subquery:
    """Calls counting toward an advocate's cap: in flight, or done in the last 90 days."""
    since = (now or timezone.now()) - CAP_WINDOW
    return Subquery(
        Ask.objects.filter(advocate=OuterRef("pk"))
        .filter(
            Q(status__in=Ask.IN_FLIGHT) | Q(status=Ask.Status.COMPLETED, completed_at__gte=since)
        )
        .order_by()
        .values("advocate")
        .annotate(n=Count("id"))
        .values("n"),
        output_field=IntegerField(),
    )


def available_advocates(now=None) -> QuerySet[Advocate]:
    """Advocates who may be asked now, each annotated with ``load`` (calls toward cap)."""
    now = now or timezone.now()
    return (
        Advocate.objects.filter(
            status=Advocate.Status.ACTIVE,
            reference_opt_in=True,
            reference_max_calls_per_90d__gt=0,
        )
        .exclude(
            Exists(ReferencePause.objects.filter(advocate=OuterRef("pk"), until__gte=now.date()))
        )
        .exclude(Exists(Ask.objects.filter(advocate=OuterRef("pk"), status=Ask.Status.PENDING)))
        .annotate(load=Coalesce(load_subquery(now), 0))
        .filter(load__lt=F("reference_max_calls_per_90d"))
    )


def advocate_load(advocate_id: int, now=None) -> int:
    now = now or timezone.now()
    return (
        Ask.objects.filter(advocate_id=advocate_id)
        .filter(
            Q(status__in=Ask.IN_FLIGHT)
            | Q(status=Ask.Status.COMPLETED, completed_at__gte=now - CAP_WINDOW)
        )
        .count()
    )


def unavailable_reason(advocate: Advocate, now=None) -> str:
    """Why this advocate may not be asked now ("" when they may). Read under a lock."""
    now = now or timezone.now()
    if advocate.status != Advocate.Status.ACTIVE:
        return _("%(name)s is not an active member.") % {"name": advocate.name}
    if not advocate.reference_opt_in:
        return _("%(name)s does not take reference calls.") % {"name": advocate.name}
    if ReferencePause.objects.filter(advocate=advocate, until__gte=now.date()).exists():
        return _("%(name)s is taking a break from reference calls.") % {"name": advocate.name}
    if Ask.objects.filter(advocate=advocate, status=Ask.Status.PENDING).exists():
        return _("%(name)s already has a request waiting for their answer.") % {
            "name": advocate.name
        }
    if advocate_load(advocate.pk, now) >= advocate.reference_max_calls_per_90d:
        cap = advocate.reference_max_calls_per_90d
        return _("%(name)s has reached their %(cap)s calls this quarter.") % {
            "name": advocate.name,
            "cap": cap,
        }
    return ""
