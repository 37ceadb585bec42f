"""Job changes as sales signals: a contact seen at a new company (``advocates.JobChange``,
noticed by a connections re-import) is a reason to call the rep of any open reference
request or open referral at either company, the one they left or the one they joined.

Companies are matched as the prospect events match them (``console.prospect_events``):
by name, and by the company's domain when the company is known with one (a request's
prospect email at that domain or a subdomain, a referral's ``referred_domain``). The
``JobChangeNotice`` insert decides "once", so a retried task tells no one twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from advocates.models import Company, JobChange, User
from console.models import JobChangeNotice
from console.prospect_events import domain_q, target_path
from core.i18n import language_of
from core.mail import send_templated
from core.outbox import enqueue_after_commit
from references.models import ReferenceRequest
from referrals.models import OPEN_STAGES, Referral

NOTIFY_TASK = "console.tasks.job_change_notify"  # advocates.services.graph.JOB_CHANGE_TASK
NOTICE_TASK = "console.tasks.job_change_notice_send"


def _companies(change: JobChange) -> tuple[list[str], list[str]]:
    """Both companies' names (lower-case) and the domains known for them."""
    names = sorted({change.from_company.strip().lower(), change.to_company.strip().lower()} - {""})
    domains = (
        Company.objects.annotate(lname=Lower("name"))
        .filter(lname__in=names)
        .exclude(domain="")
        .values_list("domain", flat=True)
    )
    return names, sorted({domain.strip().lower() for domain in domains})


def job_change_notices_create(*, job_change_id: int) -> int:
    """Record a notice for each open request / open referral at either company (not yet
    told), and email their reps after commit. Returns how many are new."""
    change = JobChange.objects.filter(pk=job_change_id).first()
    if change is None:
        return 0
    names, domains = _companies(change)
    request_q = Q(prospect_company__iexact=names[0]) if names else Q(pk__in=[])
    for name in names[1:]:
        request_q |= Q(prospect_company__iexact=name)
    referral_q = Q(referred_company__iexact=names[0]) if names else Q(pk__in=[])
    for name in names[1:]:
        referral_q |= Q(referred_company__iexact=name)
    for domain in domains:
        request_q |= domain_q("prospect_email", domain)
        referral_q |= Q(referred_domain=domain) | Q(referred_domain__iendswith=f".{domain}")
    new: list[int] = []
    with transaction.atomic():
        requests = ReferenceRequest.objects.filter(
            request_q, status__in=ReferenceRequest.OPEN_STATUSES
        ).values_list("pk", "rep_id")
        for request_id, rep_id in requests:
            notice = _notice(change=change, rep_id=rep_id, request_id=request_id)
            if notice:
                new.append(notice)
        referrals = Referral.objects.filter(
            referral_q, stage__in=OPEN_STAGES, owner_rep__isnull=False
        ).values_list("pk", "owner_rep_id")
        for referral_id, rep_id in referrals:
            notice = _notice(change=change, rep_id=rep_id, referral_id=referral_id)
            if notice:
                new.append(notice)
        for notice_id in new:
            enqueue_after_commit(NOTICE_TASK, notice_id)
    return len(new)


def _notice(
    *,
    change: JobChange,
    rep_id: int,
    request_id: int | None = None,
    referral_id: int | None = None,
) -> int | None:
    try:
        with transaction.atomic():
            notice = JobChangeNotice.objects.create(
                job_change=change, rep_id=rep_id, request_id=request_id, referral_id=referral_id
            )
    except IntegrityError:
        return None  # told already (the task ran before)
    return notice.pk


def notice_deliver(*, notice_id: int) -> str:
    """Email the rep once: ``emailed_at`` is claimed with a conditional update after send."""
    notice = (
        JobChangeNotice.objects.select_related("job_change__person", "request", "referral", "rep")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None or notice.emailed_at is not None:
        return "skipped"
    if not notice.rep.is_active:
        return "skipped: rep inactive"
    send_templated(
        to=notice.rep.email,
        template="job_change_notice",
        context={
            "rep": notice.rep,
            "change": notice.job_change,
            "person": notice.job_change.person,
            "target": notice.request or notice.referral,
            "is_request": notice.request_id is not None,
            "url": settings.SITE_URL
            + target_path(request_id=notice.request_id, referral_id=notice.referral_id),
            "signals_url": settings.SITE_URL + reverse("console:signals"),
        },
        language=language_of(notice.rep),
    )
    JobChangeNotice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    return "sent"


def notices_for(user: User, *, see_all: bool) -> QuerySet[JobChangeNotice]:
    """The signals a rep was sent (a manager: everyone's), newest first, ready to list."""
    notices = JobChangeNotice.objects.select_related(
        "job_change__person", "request", "referral", "rep"
    ).order_by("-created_at", "-id")
    return notices if see_all else notices.filter(rep=user)
