"""Explainable, deterministic matching of advocates to a reference request.

How it stays fast at 100,000 advocates and 1,000,000 edges:

1. SQL keeps only advocates who may be asked (the burnout guard: opted in, active, not
   paused, no pending ask, under their cap counting calls in flight) and gives each a
   *prescore* from the profile criteria, with the same weights as below.
2. Only a bounded band is fetched: the top ``CANDIDATES`` by prescore, widened to
   every advocate whose prescore could still win once accept rate is added (the
   only criterion SQL leaves out), capped at ``MAX_BAND``.
3. Advocates with a relationship path to the prospect are added to that set: the
   prospect's neighbours are two index scans, and 2nd-degree paths one query over
   Relationship through the indexes on both endpoints.
4. Python scores that bounded set with reasons, ties broken by advocate id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from advocates.graph import neighbour_ids
from advocates.models import Advocate, Company, Person, Relationship
from references.models import Ask, MatchingWeights, ReferencePause, ReferenceRequest

CAP_WINDOW = timedelta(days=90)
WILLINGNESS_WINDOW = timedelta(days=365)
CANDIDATES = 200
MAX_BAND = 1000
MAX_SECOND_DEGREE_EDGES = 5000

SENIORITY_ORDER = [choice for choice, _label in Advocate.Seniority.choices]
SIZE_ORDER = [choice for choice, _label in Company.SizeBand.choices]
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


def seniority_from_title(title: str) -> str:
    words = f" {title.lower()} "
    for keys, seniority in TITLE_SENIORITY:
        if any(f" {key} " in words or words.strip().startswith(key) for key in keys):
            return seniority
    return ""


def _first_name(request: ReferenceRequest) -> str:
    return request.prospect_name.split()[0] if request.prospect_name.strip() else "the prospect"


# --- The burnout guard ----------------------------------------------------------------


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
        return f"{advocate.name} is not an active member."
    if not advocate.reference_opt_in:
        return f"{advocate.name} does not take reference calls."
    if ReferencePause.objects.filter(advocate=advocate, until__gte=now.date()).exists():
        return f"{advocate.name} is taking a break from reference calls."
    if Ask.objects.filter(advocate=advocate, status=Ask.Status.PENDING).exists():
        return f"{advocate.name} already has a request waiting for their answer."
    if advocate_load(advocate.pk, now) >= advocate.reference_max_calls_per_90d:
        cap = advocate.reference_max_calls_per_90d
        return f"{advocate.name} has reached their {cap} calls this quarter."
    return ""


# --- Scoring ----------------------------------------------------------------------------


def _near(value: str, target: str, order: list[str]) -> int:
    """2 when equal, 1 when neighbours on the scale, else 0."""
    if not value or not target or value not in order or target not in order:
        return 0
    gap = abs(order.index(value) - order.index(target))
    return 2 if gap == 0 else 1 if gap == 1 else 0


def _scale_case(field_name: str, target: str, order: list[str], weight: int) -> Case:
    if not target or target not in order:
        return Value(0)
    index = order.index(target)
    adjacent = [order[i] for i in (index - 1, index + 1) if 0 <= i < len(order)]
    return Case(
        When(**{field_name: target}, then=Value(weight)),
        When(**{f"{field_name}__in": adjacent}, then=Value(weight // 2)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _prescored(
    request: ReferenceRequest,
    weights: MatchingWeights,
    product_ids: list[int],
    tag_ids: list[int],
    seniority: str,
    now,
) -> QuerySet[Advocate]:
    industry = request.prospect_industry.strip().lower()
    through_products = Advocate.products.through
    through_tags = Advocate.tags.through

    def overlap(through, column: str, ids: list[int]):
        if not ids:
            return Value(0)
        return Coalesce(
            Subquery(
                through.objects.filter(advocate_id=OuterRef("pk"), **{f"{column}__in": ids})
                .order_by()
                .values("advocate_id")
                .annotate(n=Count("id"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    industry_case = (
        Case(
            When(
                Q(industry_lower=industry) | Q(industry="", company_industry_lower=industry),
                then=Value(weights.industry),
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
        if industry
        else Value(0)
    )
    asked = Ask.objects.filter(request=request).values("advocate_id")
    return (
        available_advocates(now)
        .exclude(pk__in=asked)
        .annotate(
            industry_lower=Lower("industry"),
            company_industry_lower=Lower("company__industry"),
        )
        .annotate(
            n_products=overlap(through_products, "product_id", product_ids),
            n_tags=overlap(through_tags, "tag_id", tag_ids),
        )
        .annotate(
            prescore=industry_case
            + _scale_case("seniority", seniority, SENIORITY_ORDER, weights.seniority)
            + _scale_case(
                "company__size_band",
                request.prospect_company_size,
                SIZE_ORDER,
                weights.company_size,
            )
            + F("n_products") * weights.products
            + F("n_tags") * weights.topics
        )
    )


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


@dataclass
class _Path:
    direct: bool = False
    via: Person | None = None


def _paths(request: ReferenceRequest, advocate_ids: set[int] | None) -> dict[int, _Path]:
    """Relationship paths from advocates to the prospect: direct, or through a colleague
    or an advocate the prospect knows. ``None`` = look at every advocate."""
    prospect = request.prospect_person_id
    if prospect is None:
        return {}
    neighbours = neighbour_ids(prospect)
    if not neighbours:
        return {}
    paths: dict[int, _Path] = {}
    for _person_id, advocate_id in Person.objects.filter(
        pk__in=neighbours, advocate__isnull=False
    ).values_list("id", "advocate_id"):
        paths[advocate_id] = _Path(direct=True)
    # Only a colleague or an advocate is a useful go-between: they can make the intro.
    brokers = dict(
        Person.objects.filter(
            pk__in=neighbours, kind__in=[Person.Kind.EMPLOYEE, Person.Kind.ADVOCATE]
        ).values_list("id", "kind")
    )
    if not brokers:
        return paths
    # One query over Relationship: each edge with a broker at one end and an advocate
    # at the other, read through the index on either endpoint.
    edges = (
        Relationship.objects.filter(
            Q(from_person_id__in=brokers, to_person__advocate__isnull=False)
            | Q(to_person_id__in=brokers, from_person__advocate__isnull=False)
        )
        .values_list(
            "from_person_id", "to_person_id", "from_person__advocate_id", "to_person__advocate_id"
        )
        .order_by("id")[:MAX_SECOND_DEGREE_EDGES]
    )
    best: dict[int, tuple[tuple[int, int], int]] = {}
    for from_id, to_id, from_advocate, to_advocate in edges:
        broker_id, advocate_id = (
            (from_id, to_advocate) if from_id in brokers else (to_id, from_advocate)
        )
        if advocate_id is None or (advocate_ids is not None and advocate_id not in advocate_ids):
            continue
        if broker_id == prospect:
            continue
        # Deterministic choice of go-between: the rep first, then colleagues, then by id.
        key = (0 if brokers[broker_id] == Person.Kind.EMPLOYEE else 1, broker_id)
        if advocate_id not in best or key < best[advocate_id][0]:
            best[advocate_id] = (key, broker_id)
    if best:
        people = Person.objects.in_bulk([broker for _key, broker in best.values()])
        for advocate_id, (_key, broker_id) in best.items():
            path = paths.setdefault(advocate_id, _Path())
            path.via = people[broker_id]
    return paths


def rank(
    request: ReferenceRequest,
    *,
    limit: int = 10,
    weights: MatchingWeights | None = None,
    now=None,
) -> list[Match]:
    """The best available advocates for ``request``, best first, with their reasons."""
    now = now or timezone.now()
    weights = weights or MatchingWeights.current()
    product_ids = sorted(request.products.values_list("id", flat=True))
    tag_ids = sorted(request.topics.values_list("id", flat=True))
    seniority = request.prospect_seniority or seniority_from_title(request.prospect_title)

    scored = _prescored(request, weights, product_ids, tag_ids, seniority, now)
    top = list(scored.order_by("-prescore", "pk").values_list("pk", "prescore")[:CANDIDATES])
    ids = {pk for pk, _prescore in top}
    if len(top) == CANDIDATES:
        # Anyone within reach of the last place once accept rate is added may still win.
        floor = top[-1][1] - weights.accept_rate
        ids |= set(
            scored.filter(prescore__gte=floor)
            .order_by("-prescore", "pk")
            .values_list("pk", flat=True)[:MAX_BAND]
        )
    paths = _paths(request, None)
    path_ids = set(paths) - ids
    if path_ids:
        # Connected advocates join the set if the guard lets them.
        ids |= set(scored.filter(pk__in=path_ids).values_list("pk", flat=True))
    if not ids:
        return []
    advocates = list(
        scored.filter(pk__in=ids)
        .select_related("user", "company")
        .prefetch_related("products", "tags")
        .order_by("pk")
    )
    willingness = _willingness([a.pk for a in advocates], now)
    product_set, tag_set = set(product_ids), set(tag_ids)
    first = _first_name(request)
    company = request.prospect_company
    matches = []
    for advocate in advocates:
        reasons: list[Reason] = []
        score = 0
        industry = advocate.industry or (advocate.company.industry if advocate.company else "")
        if request.prospect_industry and industry.lower() == request.prospect_industry.lower():
            score += weights.industry
            reasons.append(Reason("industry", f"{industry} like {company}", f"Also in {industry}"))
        path = paths.get(advocate.pk)
        if path and path.direct:
            score += weights.direct_connection
            reasons.append(Reason("direct", f"Knows {first} directly", "You are already connected"))
        elif path and path.via:
            score += weights.second_degree
            via = path.via
            if via.user_id and via.user_id == request.rep_id:
                label = "you"
            elif via.kind == Person.Kind.EMPLOYEE:
                label = f"{via.full_name} (your colleague)"
            else:
                label = f"{via.full_name} (advocate)"
            reasons.append(
                Reason(
                    "second_degree",
                    f"Knows {first} through {label}",
                    f"You both know {via.full_name}",
                )
            )
        closeness = _near(advocate.seniority, seniority, SENIORITY_ORDER)
        if closeness:
            score += weights.seniority if closeness == 2 else weights.seniority // 2
            role = advocate.title or advocate.get_seniority_display()
            if closeness == 2:
                reasons.append(Reason("seniority", f"Same seniority: {role}", f"A peer: {role}"))
            else:
                reasons.append(
                    Reason("seniority", f"Similar seniority: {role}", f"Similar role: {role}")
                )
        shared_products = [p.name for p in advocate.products.all() if p.id in product_set]
        if shared_products:
            score += weights.products * len(shared_products)
            names = ", ".join(shared_products)
            reasons.append(Reason("products", f"Uses {names}", f"Uses {names}"))
        size = advocate.company.size_band if advocate.company else ""
        closeness = _near(size, request.prospect_company_size, SIZE_ORDER)
        if closeness:
            score += weights.company_size if closeness == 2 else weights.company_size // 2
            label = advocate.company.get_size_band_display()
            word = "Same" if closeness == 2 else "Similar"
            reasons.append(
                Reason("size", f"{word} company size ({label})", f"{word} company size ({label})")
            )
        shared_tags = [t.name for t in advocate.tags.all() if t.id in tag_set]
        if shared_tags:
            score += weights.topics * len(shared_tags)
            names = ", ".join(name.lower() for name in shared_tags)
            reasons.append(Reason("topics", f"Can speak to {names}", f"Can speak to {names}"))
        yes, total = willingness.get(advocate.pk, (0, 0))
        if total:
            score += round(weights.accept_rate * yes / total)
            reasons.append(Reason("willingness", f"Said yes to {yes} of {total} recent asks"))
        else:
            # No history yet: neither rewarded nor punished.
            score += weights.accept_rate // 2
            reasons.append(Reason("willingness", "Not asked before"))
        calls_left = advocate.reference_max_calls_per_90d - advocate.load
        reasons.append(
            Reason(
                "capacity" if calls_left > 1 else "capacity_low",
                f"{calls_left} of {advocate.reference_max_calls_per_90d} calls left this quarter",
            )
        )
        matches.append(
            Match(advocate=advocate, score=score, calls_left=calls_left, reasons=reasons)
        )
    matches.sort(key=lambda match: (-match.score, match.advocate.pk))
    return matches[:limit]
