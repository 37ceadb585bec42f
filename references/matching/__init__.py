"""Explainable, deterministic matching of advocates to a reference request.

How it stays fast however many advocates and relationships there are:

1. SQL keeps only advocates who may be asked (the burnout guard: opted in, active, not
   paused, no pending ask, under their cap counting calls in flight) and gives each a
   *prescore* from the profile criteria, with the same weights as below. The criteria
   come from one narrow row per advocate who takes calls
   (``advocates.models.MatchingProfile``, kept by the services that write them); the
   asks and pauses, which change with time, are read live.
2. Only a bounded *band* is fetched: the top ``CANDIDATES`` by prescore, widened to
   every advocate whose prescore could still win once accept rate is added (the
   only criterion SQL leaves out), capped at ``MAX_BAND``.
3. Advocates with a relationship path to the prospect are added to that set: the
   prospect's neighbours are two index scans, and 2nd-degree paths one query over
   Relationship through the indexes on both endpoints.
4. Python scores that bounded set with reasons, ties broken by advocate id.

Step 1 reads every opted-in advocate's profile row, and no index can narrow it: every
criterion is a sum, none a filter. A rep opens a request page many times, the prospect's shortlist
and the "send" action rank it again, so the band of a saved request is kept in the
cache (``MATCHING_BAND_SECONDS``, default 600) and the later ranks only re-check and
re-score those few hundred advocates live: their availability, load, products, tags,
willingness and paths are read again on every call, so what a rep sees of them is
never stale. What a kept band can miss is an advocate *outside* it who has become a
better fit since; so a band is used only while

- the request's criteria and the managers' weights are the ones it was computed for;
- no service reported such a change since (``advocates_changed``: a profile saved, an
  advocate joined, an ask declined/expired/cancelled or a call missed, a pause
  lifted; and any matching profile recomputed, as by an admin edit or a company's
  CRM sync); changes that come with time alone (a pause running out, a call leaving
  the 90-day window) are picked up when the band expires. Edits outside the services
  (the shell, SQL) reach the profiles only through
  ``advocates.services.matching_profiles.matching_profiles_rebuild``;
- at least ``limit`` of its advocates whose prescore reached the ``CANDIDATES``-th best
  are still available. Then nobody outside it can beat them: an outsider's prescore was
  below that mark minus the accept-rate weight, and accept rate adds at most that
  weight, while each of those survivors still scores at least the mark.

Otherwise it is computed again. Prospect profiles without a saved request (campaign
reference drives) and calls with an explicit ``now`` always compute afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from advocates.models import Advocate, Company, Person, PersonInterest, Tag
from core.cache import cache_version
from references.matching.band import (
    GENERATION_KEY,
    SENIORITY_ORDER,
    SIZE_ORDER,
    Band,
    band_criteria,
    band_keep,
    band_kept,
    prescore_band,
)
from references.matching.guard import available_advocates
from references.matching.paths import GraphPath, paths_from_advocate, paths_to_prospect
from references.models import (
    Ask,
    IndustryWeights,
    MatchingWeights,
    ReferenceRequest,
    ScoringWeights,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

WILLINGNESS_WINDOW = timedelta(days=365)

# Title words that tell a seniority when the rep left it blank.
TITLE_SENIORITY = [
    (("chief", "ceo", "cto", "cio", "cfo", "coo", "ciso", "founder", "president"), "c_level"),
    (("vp", "vice president", "svp", "evp"), "vp"),
    (("director", "head of", "head"), "director"),
    (("manager", "lead", "supervisor"), "manager"),
]


@dataclass(frozen=True)
class Reason:
    kind: str
    text: str  # for the rep
    public: str = ""  # for the prospect ("" = not shown to them)


@dataclass
class Match:
    advocate: Advocate
    score: int
    calls_left: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def rep_reasons(self) -> list[str]:
        return [reason.text for reason in self.reasons]

    @property
    def public_reasons(self) -> list[str]:
        return [reason.public for reason in self.reasons if reason.public]


def weights_for(request: ReferenceRequest) -> ScoringWeights:
    """The weights a request is scored with: its prospect's industry's set (compared
    case-insensitively), else the program's."""
    industry = (request.prospect_industry or "").strip()
    if industry:
        found = IndustryWeights.objects.filter(for_industry__iexact=industry).first()
        if found is not None:
            return found
    return MatchingWeights.current()


def seniority_from_title(title: str) -> str:
    words = f" {title.lower()} "
    for keys, seniority in TITLE_SENIORITY:
        if any(f" {key} " in words or words.strip().startswith(key) for key in keys):
            return seniority
    return ""


def _first_name(request: ReferenceRequest) -> str:
    return request.prospect_name.split()[0] if request.prospect_name.strip() else "the prospect"


# --- Scoring ----------------------------------------------------------------------------


def _near(value: str | None, target: str, order: list[str]) -> int:
    """2 when equal, 1 when neighbours on the scale, else 0."""
    if not value or not target or value not in order or target not in order:
        return 0
    gap = abs(order.index(value) - order.index(target))
    return 2 if gap == 0 else 1 if gap == 1 else 0


def _shared(through, name: str, advocate_ids: set[int], wanted: list[int]) -> dict[int, list[str]]:
    """Names of the wanted products (or tags) each advocate has, as plain tuples."""
    shared: dict[int, list[str]] = {}
    if not wanted:
        return shared
    rows = (
        through.objects.filter(advocate_id__in=advocate_ids, **{f"{name}_id__in": wanted})
        .order_by(f"{name}__name")
        .values_list("advocate_id", f"{name}__name")
    )
    for advocate_id, label in rows:
        shared.setdefault(advocate_id, []).append(label)
    return shared


def _willingness(advocate_ids: list[int], now) -> dict[int, tuple[int, int]]:
    """(accepted, answered-or-timed-out) per advocate over the last year."""
    said_yes = [Ask.Status.ACCEPTED, Ask.Status.COMPLETED, Ask.Status.NO_SHOW]
    said_no = [Ask.Status.DECLINED, Ask.Status.EXPIRED]
    rows = (
        Ask.objects.filter(
            advocate_id__in=advocate_ids,
            asked_at__gte=now - WILLINGNESS_WINDOW,
            status__in=said_yes + said_no,
        )
        .order_by()
        .values("advocate_id")
        .annotate(yes=Count("id", filter=Q(status__in=said_yes)), total=Count("id"))
    )
    return {row["advocate_id"]: (row["yes"], row["total"]) for row in rows}


def _interest_tags(request: ReferenceRequest, topic_ids: list[int]) -> list[int]:
    """Experience tags named like one of the prospect's interests (any case), leaving out
    the request's own topics: those already score as topics, once is enough."""
    if request.prospect_person_id is None:
        return []
    names = PersonInterest.objects.filter(person_id=request.prospect_person_id).annotate(
        lname=Lower("name")
    )
    return sorted(
        Tag.objects.annotate(lname=Lower("name"))
        .filter(lname__in=names.values("lname"))
        .exclude(pk__in=topic_ids)
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class _Profile:
    """What scoring reads of one advocate (one row of ``available_advocates``)."""

    COLUMNS = (
        "pk",
        "industry",
        "company__industry",
        "seniority",
        "title",
        "company__size_band",
        "reference_max_calls_per_90d",
        "load",
    )

    pk: int
    own_industry: str
    company_industry: str | None
    seniority: str
    title: str
    size_band: str | None
    cap: int
    load: int

    @property
    def industry(self) -> str:
        return self.own_industry or self.company_industry or ""

    @property
    def seniority_label(self) -> StrOrPromise:
        return Advocate.Seniority(self.seniority).label if self.seniority else ""

    @property
    def size_label(self) -> StrOrPromise:
        return Company.SizeBand(self.size_band).label if self.size_band else ""


def _score(
    request: ReferenceRequest,
    advocate: _Profile,
    weights: ScoringWeights,
    *,
    seniority: str,
    path: GraphPath | None,
    products: list[str],
    tags: list[str],
    willingness: tuple[int, int],
    interests: list[str],
) -> tuple[int, list[Reason]]:
    """One advocate's score for one request, and the reasons behind it (``interests``:
    the advocate's experience tags named like the prospect's interests, topics left out)."""
    first = _first_name(request)
    company = request.prospect_company
    reasons: list[Reason] = []
    score = 0
    industry = advocate.industry
    if request.prospect_industry and industry.lower() == request.prospect_industry.lower():
        score += weights.industry
        reasons.append(
            Reason(
                "industry",
                _("%(industry)s like %(company)s") % {"industry": industry, "company": company},
                _("Also in %(industry)s") % {"industry": industry},
            )
        )
    if path and path.direct:
        score += weights.direct_connection
        reasons.append(
            Reason(
                "direct",
                _("Knows %(first)s directly") % {"first": first},
                _("You are already connected"),
            )
        )
    elif path and path.via:
        score += weights.second_degree
        via = path.via
        if via.user_id and via.user_id == request.rep_id:
            text = _("Knows %(first)s through you")
        elif via.kind == Person.Kind.EMPLOYEE:
            text = _("Knows %(first)s through %(name)s (your colleague)")
        else:
            text = _("Knows %(first)s through %(name)s (advocate)")
        reasons.append(
            Reason(
                "second_degree",
                text % {"first": first, "name": via.full_name},
                _("You both know %(name)s") % {"name": via.full_name},
            )
        )
    closeness = _near(advocate.seniority, seniority, SENIORITY_ORDER)
    if closeness:
        score += weights.seniority if closeness == 2 else weights.seniority // 2
        role = advocate.title or advocate.seniority_label
        if closeness == 2:
            reasons.append(
                Reason(
                    "seniority",
                    _("Same seniority: %(role)s") % {"role": role},
                    _("A peer: %(role)s") % {"role": role},
                )
            )
        else:
            reasons.append(
                Reason(
                    "seniority",
                    _("Similar seniority: %(role)s") % {"role": role},
                    _("Similar role: %(role)s") % {"role": role},
                )
            )
    if products:
        score += weights.products * len(products)
        names = ", ".join(products)
        uses = _("Uses %(products)s") % {"products": names}
        reasons.append(Reason("products", uses, uses))
    closeness = _near(advocate.size_band, request.prospect_company_size, SIZE_ORDER)
    if closeness:
        score += weights.company_size if closeness == 2 else weights.company_size // 2
        label = advocate.size_label
        size = (
            _("Same company size (%(size)s)")
            if closeness == 2
            else _("Similar company size (%(size)s)")
        ) % {"size": label}
        reasons.append(Reason("size", size, size))
    if tags:
        score += weights.topics * len(tags)
        names = ", ".join(name.lower() for name in tags)
        speaks = _("Can speak to %(topics)s") % {"topics": names}
        reasons.append(Reason("topics", speaks, speaks))
    if interests:
        score += weights.interests * len(interests)
        names = ", ".join(name.lower() for name in interests)
        reasons.append(
            Reason(
                "interests",
                _("Speaks to %(first)s's interest in %(interests)s")
                % {"first": first, "interests": names},
                _("Can speak to your interest in %(interests)s") % {"interests": names},
            )
        )
    yes, total = willingness
    if total:
        score += round(weights.accept_rate * yes / total)
        reasons.append(
            Reason(
                "willingness",
                _("Said yes to %(yes)s of %(total)s recent asks") % {"yes": yes, "total": total},
            )
        )
    else:
        # No history yet: neither rewarded nor punished.
        score += weights.accept_rate // 2
        reasons.append(Reason("willingness", _("Not asked before")))
    calls_left = advocate.cap - advocate.load
    reasons.append(
        Reason(
            "capacity" if calls_left > 1 else "capacity_low",
            _("%(left)s of %(cap)s calls left this quarter")
            % {"left": calls_left, "cap": advocate.cap},
        )
    )
    return score, reasons


def rank(
    request: ReferenceRequest,
    *,
    limit: int = 10,
    weights: ScoringWeights | None = None,
    now=None,
) -> list[Match]:
    """The best available advocates for ``request``, best first, with their reasons.

    Scored with the weights of the prospect's industry when managers set some, else
    the program's (``weights_for``), unless ``weights`` are given.
    """
    fixed_now = now is not None
    now = now or timezone.now()
    weights = weights or weights_for(request)
    product_ids = sorted(request.products.values_list("id", flat=True))
    tag_ids = sorted(request.topics.values_list("id", flat=True))
    interest_ids = _interest_tags(request, tag_ids)
    seniority = request.prospect_seniority or seniority_from_title(request.prospect_title)

    def computed() -> Band:
        band = prescore_band(
            request, weights, product_ids, tag_ids, seniority, now, interest_ids=interest_ids
        )
        if not fixed_now:
            band_keep(request, criteria, generation, band)
        return band

    criteria = band_criteria(
        request, weights, product_ids, tag_ids, seniority, interest_ids=interest_ids
    )
    generation = "" if fixed_now else cache_version(GENERATION_KEY)
    kept = None if fixed_now else band_kept(request, criteria, generation)
    band = kept or computed()
    paths = paths_to_prospect(request, None)
    # By id: campaigns.kinds ranks for prospects that have no saved request (pk None).
    candidates = available_advocates(now).exclude(
        pk__in=Ask.objects.filter(request_id=request.pk).values("advocate_id")
    )

    def load(band: Band) -> list[_Profile]:
        ids = set(band.prescores)
        path_ids = set(paths) - ids
        if path_ids:
            # Connected advocates join the set if the guard lets them.
            ids |= set(candidates.filter(pk__in=path_ids).values_list("pk", flat=True))
        if not ids:
            return []
        # Plain values: the band is a few hundred advocates, and only the ``limit``
        # returned become model instances (with their user and company) below.
        rows = candidates.filter(pk__in=ids).order_by("pk").values_list(*_Profile.COLUMNS)
        return [_Profile(*row) for row in rows]

    profiles = load(band)
    if kept is not None and not band.proves([p.pk for p in profiles], limit):
        profiles = load(computed())
    if not profiles:
        return []
    ids = {profile.pk for profile in profiles}
    shared_products = _shared(Advocate.products.through, "product", ids, product_ids)
    shared_tags = _shared(Advocate.tags.through, "tag", ids, tag_ids)
    shared_interests = _shared(Advocate.tags.through, "tag", ids, interest_ids)
    willingness = _willingness(sorted(ids), now)
    scored = []
    for advocate in profiles:
        score, reasons = _score(
            request,
            advocate,
            weights,
            seniority=seniority,
            path=paths.get(advocate.pk),
            products=shared_products.get(advocate.pk, []),
            tags=shared_tags.get(advocate.pk, []),
            willingness=willingness.get(advocate.pk, (0, 0)),
            interests=shared_interests.get(advocate.pk, []),
        )
        calls_left = advocate.cap - advocate.load
        scored.append((score, advocate, calls_left, reasons))
    scored.sort(key=lambda row: (-row[0], row[1].pk))
    best = scored[:limit]
    advocates = Advocate.objects.select_related("user", "company").in_bulk(
        [profile.pk for _score, profile, _left, _reasons in best]
    )
    matches = []
    for score, profile, calls_left, reasons in best:
        chosen = advocates[profile.pk]
        chosen.load = profile.load  # type: ignore[attr-defined]  # as available_advocates annotates
        matches.append(Match(advocate=chosen, score=score, calls_left=calls_left, reasons=reasons))
    return matches


# --- The advocate's side: which open requests fit one advocate (reference drives) -------


@dataclass
class Suggestion:
    request: ReferenceRequest
    score: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def public_reasons(self) -> list[str]:
        return [reason.public for reason in self.reasons if reason.public]


def suggest(
    advocate: Advocate, requests: list[ReferenceRequest], *, limit: int = 3, now=None
) -> list[Suggestion]:
    """The requests of ``requests`` that fit ``advocate`` best, best first, with reasons.

    Empty when the burnout guard would not let them be asked (opted out, paused, at
    their cap, an ask waiting for their answer). The requests come with their
    ``products`` and ``topics`` prefetched; the queries do not grow with their number.
    """
    now = now or timezone.now()
    row = available_advocates(now).filter(pk=advocate.pk).values_list(*_Profile.COLUMNS).first()
    if row is None or not requests:
        return []
    profile = _Profile(*row)
    mine_products = set(advocate.products.values_list("pk", flat=True))
    mine_tags = set(advocate.tags.values_list("pk", flat=True))
    willingness = _willingness([advocate.pk], now).get(advocate.pk, (0, 0))
    paths = paths_from_advocate(advocate.pk)
    program = MatchingWeights.current()
    by_industry = {w.for_industry.lower(): w for w in IndustryWeights.objects.all()}
    # The prospects' interests, in one query, matched by name to the advocate's tags.
    my_tags = {name.lower(): name for name in advocate.tags.values_list("name", flat=True)}
    prospects = {r.prospect_person_id for r in requests if r.prospect_person_id}
    interests_of: dict[int, set[str]] = {}
    for person_id, name in PersonInterest.objects.filter(person_id__in=prospects).values_list(
        "person_id", "name"
    ):
        interests_of.setdefault(person_id, set()).add(name.lower())
    suggestions = []
    for request in requests:
        weights = by_industry.get(request.prospect_industry.strip().lower(), program)
        products = sorted(p.name for p in request.products.all() if p.pk in mine_products)
        tags = sorted(t.name for t in request.topics.all() if t.pk in mine_tags)
        topic_names = {t.name.lower() for t in request.topics.all()}
        interests = sorted(
            my_tags[name]
            for name in interests_of.get(request.prospect_person_id or 0, set())
            if name in my_tags and name not in topic_names
        )
        score, reasons = _score(
            request,
            profile,
            weights,
            seniority=request.prospect_seniority or seniority_from_title(request.prospect_title),
            path=paths.get(request.prospect_person_id) if request.prospect_person_id else None,
            products=products,
            tags=tags,
            willingness=willingness,
            interests=interests,
        )
        suggestions.append(Suggestion(request=request, score=score, reasons=reasons))
    # Ties go to the request that waited longest.
    suggestions.sort(key=lambda s: (-s.score, s.request.created_at, s.request.pk))
    return suggestions[:limit]
