"""The band: the bounded set of advocates worth scoring in Python, chosen in SQL by a
prescore, and kept in the cache for a saved request (see ``references.matching``'s
docstring, steps 1 and 2, for why it is enough).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from advocates.models import Advocate, Company, MatchingProfile
from core.cache import ADVOCATES_GENERATION_KEY, cache_version_bump
from references.matching.guard import CAP_WINDOW
from references.models import Ask, ReferencePause, ReferenceRequest, ScoringWeights

CANDIDATES = 100
MAX_BAND = 300

SENIORITY_ORDER = [choice for choice, _label in Advocate.Seniority.choices]
SIZE_ORDER = [choice for choice, _label in Company.SizeBand.choices]


def _scale_sql(column: str, target: str, order: list[str], weight: int) -> tuple[str, list]:
    if not target or target not in order:
        return "0", []
    index = order.index(target)
    adjacent = [order[i] for i in (index - 1, index + 1) if 0 <= i < len(order)]
    marks = ", ".join(["%s"] * len(adjacent))
    return (
        f"CASE WHEN {column} = %s THEN %s WHEN {column} IN ({marks}) THEN %s ELSE 0 END",
        [target, weight, *adjacent, weight // 2],
    )


def _in(values: list) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass(frozen=True)
class Band:
    """The advocates worth scoring in Python, with the prescore each had, and ``mark``:
    the ``CANDIDATES``-th best prescore (None when fewer were available: then the band
    held every available advocate)."""

    prescores: dict[int, int]
    mark: int | None

    def proves(self, available: list[int], limit: int) -> bool:
        """Whether the band still holds the true top ``limit`` (``references.matching``)."""
        if self.mark is None:
            return True
        strong = sum(1 for pk in available if self.prescores.get(pk, self.mark - 1) >= self.mark)
        return strong >= limit


def prescore_band(
    request: ReferenceRequest,
    weights: ScoringWeights,
    product_ids: list[int],
    tag_ids: list[int],
    seniority: str,
    now,
    *,
    interest_ids: Sequence[int] = (),
) -> Band:
    """The band (``references.matching``, step 2), in one SQL statement.

    The profile criteria are read from ``MatchingProfile``, one narrow row per advocate
    who takes calls (kept by the services that write those facts), so every such
    advocate is one scan with no join and no aggregate over the product and tag links:
    a shared product or tag is a LIKE on the row's own list of ids. What changes with
    time or per request is read live: the load and "blocked" flags are one aggregate
    over the asks that matter (in flight, recent, or for this request), the pauses a
    small anti-join. The database sorts only the top ``MAX_BAND``; the band is those of
    them within ``accept_rate`` of the ``CANDIDATES``-th prescore (the mark): only
    accept rate, left to Python, could lift them above it.
    """
    # Only table names from the models (quoted) and "%s" placeholders are formatted
    # into the SQL; every value travels as a parameter.
    q = connection.ops.quote_name
    profiles = q(MatchingProfile._meta.db_table)
    asks = q(Ask._meta.db_table)
    pauses = q(ReferencePause._meta.db_table)
    params: list = []

    # Dates and times in the form the backend stores them (SQLite: naive UTC text).
    today = connection.ops.adapt_datefield_value(now.date())
    since = connection.ops.adapt_datetimefield_value(now - CAP_WINDOW)
    in_flight = list(Ask.IN_FLIGHT)
    counts = f"(status IN ({_in(in_flight)}) OR (status = %s AND completed_at >= %s))"
    load_sql = (
        f"SELECT advocate_id, SUM(CASE WHEN {counts} THEN 1 ELSE 0 END) AS n, "  # noqa: S608
        f"MAX(CASE WHEN status = %s OR request_id = %s THEN 1 ELSE 0 END) AS blocked "
        f"FROM {asks} WHERE {counts} OR request_id = %s GROUP BY advocate_id"
    )
    load_params = [*in_flight, Ask.Status.COMPLETED, since]
    params += [*load_params, Ask.Status.PENDING, request.pk, *load_params, request.pk]

    terms = []
    industry = request.prospect_industry.strip().lower()
    if industry:
        terms.append("CASE WHEN p.industry = %s THEN %s ELSE 0 END")
        params += [industry, weights.industry]
    for sql, scale_params in (
        _scale_sql("p.seniority", seniority, SENIORITY_ORDER, weights.seniority),
        _scale_sql("p.size_band", request.prospect_company_size, SIZE_ORDER, weights.company_size),
    ):
        terms.append(sql)
        params += scale_params
    for column, ids, weight in (
        ("p.products", product_ids, weights.products),
        ("p.tags", tag_ids, weights.topics),
        # Tags answering the prospect's interests (never the request's topics as well).
        ("p.tags", list(interest_ids), weights.interests),
    ):
        for pk in ids:
            terms.append(f"CASE WHEN {column} LIKE %s THEN %s ELSE 0 END")
            params += [f"% {pk} %", weight]
    score_sql = " + ".join(f"({term})" for term in terms)
    params += [today, max(MAX_BAND, CANDIDATES)]
    sql = f"""
        WITH load AS ({load_sql})
        SELECT p.advocate_id, {score_sql} AS prescore
        FROM {profiles} p
        LEFT JOIN load l ON l.advocate_id = p.advocate_id
        WHERE p.calls_cap > COALESCE(l.n, 0) AND COALESCE(l.blocked, 0) = 0
          AND p.advocate_id NOT IN (SELECT advocate_id FROM {pauses} WHERE until >= %s)
        ORDER BY prescore DESC, p.advocate_id
        LIMIT %s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Those available are sorted best first: the mark is the CANDIDATES-th, and the
    # band the head of them down to the mark minus accept rate, at most MAX_BAND.
    mark = rows[CANDIDATES - 1][1] if len(rows) >= CANDIDATES else None
    floor = mark - weights.accept_rate if mark is not None else None
    return Band(
        prescores={
            pk: prescore for pk, prescore in rows[:MAX_BAND] if floor is None or prescore >= floor
        },
        mark=mark,
    )


# --- Keeping the band -----------------------------------------------------------------

BAND_KEY = "references:matching:band:v1:{pk}"
GENERATION_KEY = ADVOCATES_GENERATION_KEY


def band_seconds() -> int:
    return int(getattr(settings, "MATCHING_BAND_SECONDS", 600))


def advocates_changed() -> None:
    """Some advocate may have become askable, or a better fit: kept bands are stale.

    Called inside the transaction of the service that made the change; the kept bands
    are dropped once it commits (a new generation), so a rank right after sees it.
    """
    cache_version_bump(GENERATION_KEY)


def band_criteria(
    request: ReferenceRequest,
    weights: ScoringWeights,
    product_ids: list[int],
    tag_ids: list[int],
    seniority: str,
    *,
    interest_ids: Sequence[int] = (),
) -> list:
    """Everything the band depends on besides the advocates themselves."""
    return [
        request.prospect_industry.strip().lower(),
        seniority,
        request.prospect_company_size,
        product_ids,
        tag_ids,
        [weights.industry, weights.seniority, weights.company_size],
        [weights.products, weights.topics, weights.accept_rate],
        list(interest_ids),
        weights.interests,
        [CANDIDATES, MAX_BAND],
    ]


def band_kept(request: ReferenceRequest, criteria: list, generation: str) -> Band | None:
    if request.pk is None or band_seconds() <= 0:
        return None
    kept = cache.get(BAND_KEY.format(pk=request.pk))
    if (
        not isinstance(kept, dict)
        or kept.get("criteria") != criteria
        or kept.get("generation") != generation
        or time.time() - kept.get("at", 0) > band_seconds()
    ):
        return None
    return Band(prescores=dict(kept["prescores"]), mark=kept["mark"])


def band_keep(request: ReferenceRequest, criteria: list, generation: str, band: Band) -> None:
    if request.pk is None or band_seconds() <= 0:
        return
    cache.set(
        BAND_KEY.format(pk=request.pk),
        {
            "criteria": criteria,
            "generation": generation,
            "at": time.time(),
            "prescores": list(band.prescores.items()),
            "mark": band.mark,
        },
        band_seconds(),
    )
