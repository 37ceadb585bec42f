"""Segments: saved filters over advocates, and the advocates a filter selects.

Contract (used by sending, triggers and the console):

- ``segment_advocates(filters) -> QuerySet[Advocate]``: the ACTIVE advocates a filter
  selects; ``filters`` is a segment's stored ``filters`` dict (or a ``SegmentFilters``).
  The queryset is unordered-safe to iterate in chunks (``.order_by("pk")`` it yourself).
  Raises ``SegmentFilterError`` when the stored dict is malformed, rather than guessing
  (a campaign must never fall back to "everyone").
- ``segment_q(spec)``: the same selection as a ``Q`` over Advocate, so several segments
  can be counted in one query (``segments_count``).

The stored dict (every key optional; an empty dict selects every active advocate)::

    {"companies": [ids], "industries": ["Software"], "seniorities": ["vp"],
     "tags": [ids], "products": [ids],            # any of the listed
     "groups": [ids],                              # a member of any of the groups
     "level": level_id,                            # lifetime points >= its threshold
     "nps": ["promoter", "passive", "detractor", "none"],   # any of
     "ams_min": 0-100, "ams_max": 0-100,
     "active_after": "YYYY-MM-DD", "active_before": "YYYY-MM-DD",
     "has_referred": true|false, "has_reference": true|false,
     "reference_available": true|false}

Why the query stays fast on a large program: a count reads one narrow index, not the
table. "Has referred" and "has given a reference call" read counts kept on the advocate
row by the services that write referrals and asks (``referral_count``,
``reference_count``, advocates.services.summary), as NPS, AMS, activity and the level
read ``nps_score``, ``ams``, ``last_active_at`` and ``lifetime_points``; the partial
index ``advocate_segment`` holds all of them for the active advocates, so a count is an
index-only scan. Tags, products and groups are EXISTS subqueries on an index that starts
with ``advocate_id`` (no join + DISTINCT, which would multiply rows and sort them away
again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from advocates.models import Advocate, CommunityGroup, Company, GroupMembership, Product, Tag
from challenges.models import Level
from references.matching.guard import available_advocates

NPS_BANDS = {
    "promoter": (gettext_lazy("Promoters (9–10)"), Q(nps_score__gte=9)),
    "passive": (gettext_lazy("Passives (7–8)"), Q(nps_score__gte=7, nps_score__lte=8)),
    "detractor": (gettext_lazy("Detractors (0–6)"), Q(nps_score__lte=6)),
    "none": (gettext_lazy("No NPS answer"), Q(nps_score__isnull=True)),
}


class SegmentFilterError(ValueError):
    """A stored filter that cannot be read; the message says which part."""


@dataclass(frozen=True)
class SegmentFilters:
    """A typed, validated filter. ``None`` / empty means "any"."""

    companies: tuple[int, ...] = ()
    industries: tuple[str, ...] = ()
    seniorities: tuple[str, ...] = ()
    tags: tuple[int, ...] = ()
    products: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    level: int | None = None
    nps: tuple[str, ...] = ()
    ams_min: int | None = None
    ams_max: int | None = None
    active_after: date | None = None
    active_before: date | None = None
    has_referred: bool | None = None
    has_reference: bool | None = None
    reference_available: bool | None = None

    # --- reading and writing the stored dict ---------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SegmentFilters:
        if data is not None and not isinstance(data, Mapping):
            raise SegmentFilterError(_("This segment's stored filter is not readable."))
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise SegmentFilterError(
                _("Unknown filter: %(names)s.") % {"names": ", ".join(sorted(unknown))}
            )
        try:
            spec = cls(
                companies=_ids(data.get("companies")),
                industries=_strings(data.get("industries")),
                seniorities=_strings(data.get("seniorities")),
                tags=_ids(data.get("tags")),
                products=_ids(data.get("products")),
                groups=_ids(data.get("groups")),
                level=_optional_int(data.get("level")),
                nps=_strings(data.get("nps")),
                ams_min=_optional_int(data.get("ams_min")),
                ams_max=_optional_int(data.get("ams_max")),
                active_after=_optional_date(data.get("active_after")),
                active_before=_optional_date(data.get("active_before")),
                has_referred=_optional_bool(data.get("has_referred")),
                has_reference=_optional_bool(data.get("has_reference")),
                reference_available=_optional_bool(data.get("reference_available")),
            )
        except (TypeError, ValueError) as error:
            raise SegmentFilterError(_("Unreadable filter: %(error)s") % {"error": error}) from None
        spec.validate()
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The JSON stored on the segment: only the criteria that are set."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None or value == ():
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, date):
                value = value.isoformat()
            out[name] = value
        return out

    def validate(self) -> None:
        bad_seniority = set(self.seniorities) - set(Advocate.Seniority.values)
        if bad_seniority:
            raise SegmentFilterError(
                _("Unknown seniority: %(names)s.") % {"names": ", ".join(sorted(bad_seniority))}
            )
        bad_nps = set(self.nps) - set(NPS_BANDS)
        if bad_nps:
            raise SegmentFilterError(
                _("Unknown NPS group: %(names)s.") % {"names": ", ".join(sorted(bad_nps))}
            )
        for name in ("ams_min", "ams_max"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                raise SegmentFilterError(_("AMS is a score from 0 to 100."))
        if self.ams_min is not None and self.ams_max is not None and self.ams_min > self.ams_max:
            raise SegmentFilterError(_("The lowest AMS is above the highest: nobody could match."))
        if (
            self.active_after is not None
            and self.active_before is not None
            and self.active_after >= self.active_before
        ):
            raise SegmentFilterError(
                _("“Last active after” must be before “last active before”: nobody could match.")
            )

    @property
    def is_empty(self) -> bool:
        return not self.to_dict()


def _ids(value: Any) -> tuple[int, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of ids")
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ValueError("expected a list of ids")
        ids.append(int(item))
    return tuple(sorted(set(ids)))


def _strings(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of words")
    return tuple(sorted({item.strip() for item in value if item.strip()}))


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number")
    return int(value)


def _optional_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _optional_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    raise ValueError("expected true or false")


def parse(filters: Mapping[str, Any] | SegmentFilters | None) -> SegmentFilters:
    if isinstance(filters, SegmentFilters):
        return filters
    return SegmentFilters.from_dict(filters)


# --- From a filter to advocates -------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def has_referred_q() -> Q:
    # A referral in any stage but rejected (referrals.services.summary keeps the count).
    return Q(referral_count__gt=0)


def has_reference_q() -> Q:
    # An ask marked completed, as challenges.selectors.progress.references_count counts
    # (references.services.summary keeps the count).
    return Q(reference_count__gt=0)


def reference_available_q(now: datetime | None = None) -> Q:
    # references.matching owns the rule (opted in, not paused, no pending ask, under
    # their own 90-day cap); an IN over its queryset keeps one definition of "available".
    return Q(pk__in=available_advocates(now).values("pk"))


def _yes_no(q: Q, wanted: bool | None) -> Q:
    if wanted is None:
        return Q()
    return q if wanted else ~q


def segment_q(filters: Mapping[str, Any] | SegmentFilters | None, now: datetime | None = None) -> Q:
    """The filter as a Q over Advocate (active status not included)."""
    spec = parse(filters)
    q = Q()
    if spec.companies:
        q &= Q(company_id__in=spec.companies)
    if spec.industries:
        q &= Q(industry__in=spec.industries)
    if spec.seniorities:
        q &= Q(seniority__in=spec.seniorities)
    if spec.tags:
        q &= Q(
            Exists(
                Advocate.tags.through.objects.filter(
                    advocate_id=OuterRef("pk"), tag_id__in=spec.tags
                )
            )
        )
    if spec.products:
        q &= Q(
            Exists(
                Advocate.products.through.objects.filter(
                    advocate_id=OuterRef("pk"), product_id__in=spec.products
                )
            )
        )
    if spec.groups:
        # Members only: a request still waiting for a manager is not membership.
        q &= Q(
            Exists(
                GroupMembership.objects.filter(
                    advocate_id=OuterRef("pk"),
                    group_id__in=spec.groups,
                    status=GroupMembership.Status.MEMBER,
                )
            )
        )
    if spec.level is not None:
        # A deleted level's threshold is NULL: the comparison is false, nobody matches.
        q &= Q(
            lifetime_points__gte=Subquery(
                Level.objects.filter(pk=spec.level).values("threshold")[:1]
            )
        )
    if spec.nps:
        bands = Q()
        for band in spec.nps:
            bands |= NPS_BANDS[band][1]
        q &= bands
    if spec.ams_min is not None:
        q &= Q(ams__gte=spec.ams_min)
    if spec.ams_max is not None:
        q &= Q(ams__lte=spec.ams_max)
    if spec.active_after is not None:
        # On or after that day.
        q &= Q(last_active_at__gte=_day_start(spec.active_after))
    if spec.active_before is not None:
        # Not active since that day, including advocates who never did anything yet:
        # that is who a "come back" campaign is for.
        q &= Q(last_active_at__lt=_day_start(spec.active_before)) | Q(last_active_at__isnull=True)
    q &= _yes_no(has_referred_q(), spec.has_referred)
    q &= _yes_no(has_reference_q(), spec.has_reference)
    if spec.reference_available is not None:
        q &= _yes_no(reference_available_q(now), spec.reference_available)
    return q


def segment_advocates(
    filters: Mapping[str, Any] | SegmentFilters | None, now: datetime | None = None
) -> QuerySet[Advocate]:
    """The active advocates ``filters`` selects (see the module docstring)."""
    return Advocate.objects.filter(status=Advocate.Status.ACTIVE).filter(segment_q(filters, now))


def segments_count(segments: Iterable[Any]) -> dict[int, int | None]:
    """Member counts of several segments in ONE statement: a ``UNION ALL`` of one
    ``COUNT(*)`` per segment.

    Each branch is planned on its own, so each gets the plan a lone count would
    (anti-joins for "has not referred", index scans for AMS and activity); one
    conditional aggregate per segment over a single scan is slower on PostgreSQL,
    because an EXISTS inside ``FILTER (WHERE ...)`` runs once per advocate row.
    A segment whose stored filter cannot be read counts as None (shown as "invalid").
    """
    counts: dict[int, int | None] = {}
    parts: list[str] = []
    params: list[Any] = []
    for segment in segments:
        try:
            queryset = segment_advocates(segment.filters).order_by().values("pk")
        except SegmentFilterError:
            counts[segment.pk] = None
            continue
        sql, branch_params = queryset.query.sql_with_params()
        # Django compiled the SQL; every value in it is a bound parameter.
        parts.append(f"SELECT %s, COUNT(*) FROM ({sql}) AS segment_{len(parts)}")  # noqa: S608
        params.extend([segment.pk, *branch_params])
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for segment_id, count in cursor.fetchall():
                counts[int(segment_id)] = int(count)
    return counts


# The segments list shows counts at most this old. Why a cache is right there and only
# there: the list is an overview of audiences, and membership moves with every
# advocate's activity (no write could invalidate it), while counting every segment live
# on each visit is the list's whole cost (bench/results/ has the figures).
# The key holds the segment's ``updated_at``, so an edited filter is counted afresh at
# once; the segment's own page, the editor and a campaign's start count live.
LIST_COUNT_SECONDS = 300


def _list_count_key(segment: Any) -> str:
    return f"campaigns:segment-count:v1:{segment.pk}:{segment.updated_at.timestamp()}"


def segments_count_recent(segments: Iterable[Any]) -> dict[int, int | None]:
    """``segments_count`` for the list page, from the cache when counted in the last
    ``LIST_COUNT_SECONDS`` (the others in one statement, then cached)."""
    segments = list(segments)
    keys = {_list_count_key(segment): segment.pk for segment in segments}
    found: dict[int, int | None] = {keys[key]: value for key, value in cache.get_many(keys).items()}
    missing = [segment for segment in segments if segment.pk not in found]
    if missing:
        counted = segments_count(missing)
        cache.set_many(
            {_list_count_key(segment): counted[segment.pk] for segment in missing},
            LIST_COUNT_SECONDS,
        )
        found |= counted
    return found


# --- Describing a filter to a person -----------------------------------------------------


def segment_describe(filters: Mapping[str, Any] | SegmentFilters | None) -> list[str]:
    """One short line per criterion, e.g. "NPS: Promoters (9–10)" (a few small queries)."""
    spec = parse(filters)
    lines = []

    def names(model: Any, ids: tuple[int, ...]) -> str:
        found = list(
            model.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)
        )
        missing = len(ids) - len(found)
        if missing:
            found.append(
                ngettext("%(count)s deleted", "%(count)s deleted", missing) % {"count": missing}
            )
        return ", ".join(found)

    if spec.companies:
        lines.append(_("Company: %(names)s") % {"names": names(Company, spec.companies)})
    if spec.industries:
        lines.append(_("Industry: %(names)s") % {"names": ", ".join(spec.industries)})
    if spec.seniorities:
        labels = dict(Advocate.Seniority.choices)
        seniorities = ", ".join(str(labels[s]) for s in spec.seniorities)
        lines.append(_("Seniority: %(names)s") % {"names": seniorities})
    if spec.tags:
        lines.append(_("Experience (any): %(names)s") % {"names": names(Tag, spec.tags)})
    if spec.products:
        lines.append(_("Products (any): %(names)s") % {"names": names(Product, spec.products)})
    if spec.groups:
        groups = names(CommunityGroup, spec.groups)
        lines.append(_("Member of (any): %(names)s") % {"names": groups})
    if spec.level is not None:
        level = Level.objects.filter(pk=spec.level).first()
        lines.append(
            _("Level: %(level)s or higher") % {"level": level.name}
            if level
            else _("Level: (deleted level)")
        )
    if spec.nps:
        bands = ", ".join(str(NPS_BANDS[band][0]) for band in spec.nps)
        lines.append(_("NPS: %(bands)s") % {"bands": bands})
    if spec.ams_min is not None or spec.ams_max is not None:
        lines.append(
            _("AMS: %(low)s–%(high)s")
            % {"low": spec.ams_min or 0, "high": 100 if spec.ams_max is None else spec.ams_max}
        )
    if spec.active_after:
        lines.append(
            _("Last active on or after %(date)s")
            % {"date": date_format(spec.active_after, "DATE_FORMAT")}
        )
    if spec.active_before:
        lines.append(
            _("Not active since %(date)s")
            % {"date": date_format(spec.active_before, "DATE_FORMAT")}
        )
    for value, yes, no in (
        (spec.has_referred, _("Has referred"), _("Has not referred")),
        (spec.has_reference, _("Has given a reference call"), _("Has not given a reference call")),
        (
            spec.reference_available,
            _("Available for a reference now"),
            _("Not available for a reference"),
        ),
    ):
        if value is not None:
            lines.append(yes if value else no)
    return lines or [_("Every active advocate")]
