"""Prospect company events (funding round, new hire, expansion...) imported from a CSV.

An event whose company domain matches an open reference request's prospect (their email
domain) or an open referral's company is a reason to push that deal: the rep who owns
it is told, once per (event, request) or (event, referral), with a link to the
request's matches. The ``ProspectEventSuggestion`` insert decides "once", so importing
the same file again, or twice at the same time, tells no one twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from advocates.models import User
from console.models import ProspectEvent, ProspectEventSuggestion
from core.csv import CsvFileError, csv_read
from core.i18n import language_of
from core.mail import send_templated
from core.outbox import enqueue_after_commit
from references.models import ReferenceRequest
from referrals.models import OPEN_STAGES, Referral

COLUMNS = ("domain", "event_type", "date")
# console.tasks.prospect_event_suggestion_send, named so this module need not import tasks.
SUGGESTION_TASK = "campaigns.prospect_events.prospect_event_suggestion_send"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass
class EventImportResult:
    created: int = 0
    unchanged: int = 0
    suggestions: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _clean_domain(value: str) -> str:
    value = value.strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.removeprefix("www.").split("/", 1)[0]
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    return value


def _parse_rows(file: UploadedFile, result: EventImportResult) -> list[tuple[int, str, str, date]]:
    """The rows of the file; a bad row, or a file-level problem, goes to ``result.errors``."""
    rows: list[tuple[int, str, str, date]] = []
    kinds = ", ".join(ProspectEvent.Kind.values)
    today = timezone.localdate()
    try:
        for row in csv_read(file, columns=COLUMNS):
            line = row.line
            domain = _clean_domain(row.cells.get("domain", ""))
            kind = row.cells.get("event_type", "").lower().replace(" ", "_").replace("-", "_")
            when = row.cells.get("date", "")
            if not _DOMAIN.match(domain):
                result.errors.append(
                    (
                        line,
                        _("“%(domain)s” is not a company domain.")
                        % {"domain": domain or _("(empty)")},
                    )
                )
                continue
            if kind not in ProspectEvent.Kind.values:
                result.errors.append(
                    (
                        line,
                        _("“%(kind)s” is not an event type. Use one of: %(kinds)s.")
                        % {"kind": kind or _("(empty)"), "kinds": kinds},
                    )
                )
                continue
            try:
                occurred = parse_date(when)
            except ValueError:
                occurred = None
            if occurred is None:
                result.errors.append(
                    (
                        line,
                        _("“%(date)s” is not a date (YYYY-MM-DD).")
                        % {"date": when or _("(empty)")},
                    )
                )
                continue
            if occurred > today:
                result.errors.append((line, _("%(date)s is in the future.") % {"date": occurred}))
                continue
            rows.append((line, domain, kind, occurred))
    except CsvFileError as error:
        result.errors[:] = [(error.line, str(error))]
        return []
    if not rows and not result.errors:
        result.errors.append((0, _("The file has no rows.")))
    return rows


def prospect_events_import(*, file: UploadedFile, imported_by: User) -> EventImportResult:
    """Import every row, or none: any bad row is listed and nothing is written.

    Rows already imported (same domain, type and date) are left as they are; every
    event of the file is then matched, so a request opened since the last import of
    the same event is suggested now.
    """
    result = EventImportResult()
    rows = _parse_rows(file, result)
    if result.errors:
        result.errors.sort()
        return result
    with transaction.atomic():
        events = []
        for _line, domain, kind, occurred in rows:
            event, created = ProspectEvent.objects.get_or_create(
                domain=domain,
                kind=kind,
                occurred_on=occurred,
                defaults={"imported_by": imported_by},
            )
            result.created += created
            result.unchanged += not created
            events.append(event)
        result.suggestions = suggestions_create(events=events)
    return result


def domain_q(field_name: str, domain: str) -> Q:
    """An address at ``domain`` or one of its subdomains (eu.acme.com); shared with the
    job-change notices (console.job_changes)."""
    return Q(**{f"{field_name}__iendswith": f"@{domain}"}) | Q(
        **{f"{field_name}__iendswith": f".{domain}"}
    )


def suggestions_create(*, events: list[ProspectEvent]) -> int:
    """Record a suggestion for each (event, open request / open referral) pair not yet
    told, and email the reps after commit. Returns how many are new."""
    new: list[int] = []
    for event in {e.pk: e for e in events}.values():
        requests = ReferenceRequest.objects.filter(
            domain_q("prospect_email", event.domain),
            status__in=ReferenceRequest.OPEN_STATUSES,
        ).values_list("pk", "rep_id")
        for request_id, rep_id in requests:
            suggestion = _suggest(event=event, rep_id=rep_id, request_id=request_id)
            if suggestion:
                new.append(suggestion)
        referrals = Referral.objects.filter(
            referred_domain=event.domain, stage__in=OPEN_STAGES, owner_rep__isnull=False
        ).values_list("pk", "owner_rep_id")
        for referral_id, rep_id in referrals:
            suggestion = _suggest(event=event, rep_id=rep_id, referral_id=referral_id)
            if suggestion:
                new.append(suggestion)
    # Through the outbox: the intent is written with the transaction, so it survives a
    # broker outage.
    for suggestion_id in new:
        enqueue_after_commit(SUGGESTION_TASK, suggestion_id)
    return len(new)


def _suggest(
    *,
    event: ProspectEvent,
    rep_id: int,
    request_id: int | None = None,
    referral_id: int | None = None,
) -> int | None:
    try:
        with transaction.atomic():
            suggestion = ProspectEventSuggestion.objects.create(
                event=event, rep_id=rep_id, request_id=request_id, referral_id=referral_id
            )
    except IntegrityError:
        return None  # told already (this import ran before, or is running beside us)
    return suggestion.pk


def target_path(*, request_id: int | None, referral_id: int | None) -> str:
    """The rep's page of what a suggestion or notice is about: the request, else the
    referral."""
    if request_id:
        return reverse("references:request_detail", kwargs={"pk": request_id})
    return reverse("referrals:rep_detail", kwargs={"pk": referral_id})


def suggestion_url(suggestion: ProspectEventSuggestion) -> str:
    return settings.SITE_URL + target_path(
        request_id=suggestion.request_id, referral_id=suggestion.referral_id
    )


def suggestion_deliver(*, suggestion_id: int) -> str:
    """Email the rep once: ``emailed_at`` is claimed with a conditional update after send."""
    suggestion = (
        ProspectEventSuggestion.objects.select_related("event", "request", "referral", "rep")
        .filter(pk=suggestion_id)
        .first()
    )
    if suggestion is None or suggestion.emailed_at is not None:
        return "skipped"
    if not suggestion.rep.is_active:
        return "skipped: rep inactive"
    target = suggestion.request or suggestion.referral
    if suggestion.request is not None:
        company = suggestion.request.prospect_company
    elif suggestion.referral is not None:
        company = suggestion.referral.referred_company or suggestion.event.domain
    else:
        company = suggestion.event.domain
    send_templated(
        to=suggestion.rep.email,
        template="prospect_event_suggestion",
        context={
            "rep": suggestion.rep,
            "event": suggestion.event,
            "company": company,
            "target": target,
            "is_request": suggestion.request_id is not None,
            "url": suggestion_url(suggestion),
        },
        language=language_of(suggestion.rep),
    )
    ProspectEventSuggestion.objects.filter(pk=suggestion.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    return "sent"
