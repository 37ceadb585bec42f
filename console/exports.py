"""CSV exports for the console, streamed so a large export stays small in memory.

Each export is a ``values_list`` (tuples, never model instances; related names joined
by the database) read with ``.iterator(chunk_size=2000)``: on PostgreSQL a server-side
cursor fetching 2,000 rows at a time, on SQLite chunked fetches from one cursor. Rows
go through ``core.csv`` (formula neutralisation) one line at a time.

Left out on purpose: redemption fulfilment notes (gift-card codes and tracking numbers
are for the advocate only) and anything secret (tokens, nonces, link signatures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from advocates.models import Advocate
from campaigns.models import Campaign, CampaignMessage
from console.selectors.home import day_bounds
from core.csv import stream_csv
from references.models import ReferenceRequest
from referrals.models import Referral
from rewards.models import LedgerEntry, Redemption

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CHUNK_SIZE = 2000


class ExportWindowForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To (included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(gettext_lazy("The end date is before the start date."))
        return data

    def window(self) -> dict[str, datetime | None]:
        since, until = day_bounds(self.cleaned_data.get("start"), self.cleaned_data.get("end"))
        return {"since": since, "until": until}


@dataclass(frozen=True)
class Export:
    key: str
    title: StrOrPromise
    description: StrOrPromise
    date_label: StrOrPromise  # which date the window applies to
    date_field: str
    columns: tuple[tuple[str, str], ...]  # (header, values_list path)
    queryset: Callable[[], QuerySet]

    @property
    def header(self) -> list[str]:
        return [header for header, _ in self.columns]

    def rows(self, *, since: datetime | None = None, until: datetime | None = None) -> QuerySet:
        queryset = self.queryset()
        if since is not None:
            queryset = queryset.filter(**{f"{self.date_field}__gte": since})
        if until is not None:
            queryset = queryset.filter(**{f"{self.date_field}__lt": until})
        # Ordered by primary key: stable, and the cheapest order to stream.
        return queryset.order_by("pk").values_list(*(path for _, path in self.columns))

    def filename(self, since: datetime | None, until: datetime | None) -> str:
        parts = [self.key]
        if since:
            parts.append(f"from-{since.date().isoformat()}")
        if until:
            last_day = timezone.localtime(until).date().toordinal() - 1
            parts.append(f"to-{date.fromordinal(last_day).isoformat()}")
        return "-".join(parts) + ".csv"


EXPORTS: dict[str, Export] = {
    export.key: export
    for export in (
        Export(
            key="advocates",
            title=gettext_lazy("Advocates"),
            description=gettext_lazy("Every advocate profile with status, points, NPS and AMS."),
            date_label=pgettext_lazy("Dates: when …", "added"),
            date_field="created_at",
            columns=(
                ("id", "id"),
                ("email", "user__email"),
                ("first_name", "user__first_name"),
                ("last_name", "user__last_name"),
                ("company", "company__name"),
                ("title", "title"),
                ("seniority", "seniority"),
                ("industry", "industry"),
                ("status", "status"),
                ("joined_at", "joined_at"),
                ("owner_rep", "owner_rep__email"),
                ("reference_opt_in", "reference_opt_in"),
                ("balance", "balance"),
                ("lifetime_points", "lifetime_points"),
                ("nps_score", "nps_score"),
                ("ams", "ams"),
                ("ams_private", "ams_private"),
                ("ams_public", "ams_public"),
                ("last_active_at", "last_active_at"),
                ("created_at", "created_at"),
            ),
            queryset=lambda: Advocate.objects.all(),
        ),
        Export(
            key="ledger",
            title=gettext_lazy("Points ledger"),
            description=gettext_lazy("Every change of points: awards, spends, refunds, reversals."),
            date_label=pgettext_lazy("Dates: when …", "recorded"),
            date_field="created_at",
            columns=(
                ("id", "id"),
                ("created_at", "created_at"),
                ("advocate_id", "advocate_id"),
                ("advocate_email", "advocate__user__email"),
                ("amount", "amount"),
                ("kind", "kind"),
                ("reason", "reason"),
                ("idempotency_key", "idempotency_key"),
                ("source_type", "source_type"),
                ("source_id", "source_id"),
                ("reverses_id", "reverses_id"),
            ),
            queryset=lambda: LedgerEntry.objects.all(),
        ),
        Export(
            key="redemptions",
            title=gettext_lazy("Redemptions"),
            description=gettext_lazy(
                "Rewards redeemed and their fulfilment (without gift-card codes)."
            ),
            date_label=pgettext_lazy("Dates: when …", "redeemed"),
            date_field="created_at",
            columns=(
                ("id", "id"),
                ("created_at", "created_at"),
                ("advocate_email", "advocate__user__email"),
                ("reward", "reward__name"),
                ("points", "points"),
                ("status", "status"),
                ("shipping_name", "shipping_name"),
                ("shipping_address", "shipping_address"),
                ("shipping_phone", "shipping_phone"),
                ("approved_at", "approved_at"),
                ("fulfilled_at", "fulfilled_at"),
                ("cancelled_at", "cancelled_at"),
                ("cancel_reason", "cancel_reason"),
                ("handled_by", "handled_by__email"),
            ),
            queryset=lambda: Redemption.objects.all(),
        ),
        Export(
            key="referrals",
            title=gettext_lazy("Referrals"),
            description=gettext_lazy("Every referral with its method, stage, owner rep and deal."),
            date_label=pgettext_lazy("Dates: when …", "referred"),
            date_field="created_at",
            columns=(
                ("id", "id"),
                ("created_at", "created_at"),
                ("advocate_email", "advocate__user__email"),
                ("method", "method"),
                ("referred_name", "referred_name"),
                ("referred_email", "referred_email"),
                ("referred_company", "referred_company"),
                ("referred_title", "referred_title"),
                ("stage", "stage"),
                ("rejection_reason", "rejection_reason"),
                ("owner_rep", "owner_rep__email"),
                ("deal_amount", "deal_amount"),
                ("won_at", "won_at"),
                ("external_id", "external_id"),
            ),
            queryset=lambda: Referral.objects.all(),
        ),
        Export(
            key="reference_requests",
            title=gettext_lazy("Reference requests"),
            description=gettext_lazy(
                "Reps' requests for reference calls, their outcome and won revenue."
            ),
            date_label=pgettext_lazy("Dates: when …", "requested"),
            date_field="created_at",
            columns=(
                ("id", "id"),
                ("created_at", "created_at"),
                ("rep", "rep__email"),
                ("prospect_name", "prospect_name"),
                ("prospect_email", "prospect_email"),
                ("prospect_company", "prospect_company"),
                ("opportunity_name", "opportunity_name"),
                ("opportunity_amount", "opportunity_amount"),
                ("opportunity_stage", "opportunity_stage"),
                ("call_type", "call_type"),
                ("status", "status"),
                ("completed_at", "completed_at"),
                ("prospect_rating", "prospect_rating"),
                ("outcome", "outcome"),
                ("won_amount", "won_amount"),
                ("closed_on", "closed_on"),
            ),
            queryset=lambda: ReferenceRequest.objects.all(),
        ),
    )
}

CAMPAIGN_COLUMNS = (
    ("email", "email"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("advocate_id", "advocate_id"),
    ("status", "status"),
    ("skip_reason", "skip_reason"),
    ("attempts", "attempts"),
    ("error", "error"),
    ("sent_at", "sent_at"),
    ("opened_at", "opened_at"),
    ("clicked_at", "clicked_at"),
    ("unsubscribed_at", "unsubscribed_at"),
)


def export_rows(
    export: Export, *, since: datetime | None = None, until: datetime | None = None
) -> Iterator[tuple]:
    return export.rows(since=since, until=until).iterator(chunk_size=CHUNK_SIZE)


def export_response(
    export: Export, *, since: datetime | None = None, until: datetime | None = None
) -> StreamingHttpResponse:
    return stream_csv(
        export.header,
        export_rows(export, since=since, until=until),
        export.filename(since, until),
    )


def campaign_results_rows(campaign: Campaign) -> Iterator[tuple]:
    return (
        CampaignMessage.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list(*(path for _, path in CAMPAIGN_COLUMNS))
        .iterator(chunk_size=CHUNK_SIZE)
    )


def campaign_results_response(campaign: Campaign) -> StreamingHttpResponse:
    return stream_csv(
        [header for header, _ in CAMPAIGN_COLUMNS],
        campaign_results_rows(campaign),
        f"campaign-{campaign.pk}-results.csv",
    )
