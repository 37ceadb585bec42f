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

from advocates.models import Advocate, Company
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

    The guard and the profile criteria are computed set-wise (hash joins over the
    advocate, product, tag and ask tables, each read once) rather than per advocate
    with correlated subqueries, so all advocates are one pass. Shared products and
    tags are one aggregate over both link tables, and the load and "blocked" flags one
    aggregate over the asks that matter (in flight, recent, or for this request),
    without joining the advocate table twice. Companies are one small materialised
    set hash-joined to the advocates (PostgreSQL otherwise probes the company key once
    per advocate), and the advocates and link tables are read from covering indexes
    alone. The band is every advocate within
    ``accept_rate`` of the ``CANDIDATES``-th prescore: only accept rate, left to Python,
    could lift them above it.
    """
    # Only table names from the models (quoted) and "%s" placeholders are formatted
    # into the SQL; every value travels as a parameter.
    q = connection.ops.quote_name
    advocate = q(Advocate._meta.db_table)
    company = q(Company._meta.db_table)
    products = q(Advocate.products.through._meta.db_table)
    tags = q(Advocate.tags.through._meta.db_table)
    asks = q(Ask._meta.db_table)
    pauses = q(ReferencePause._meta.db_table)
    params: list = []

    shared = []
    for table, column, ids, weight in (
        (products, "product_id", product_ids, weights.products),
        (tags, "tag_id", tag_ids, weights.topics),
        # Tags answering the prospect's interests (never the request's topics as well).
        (tags, "tag_id", list(interest_ids), weights.interests),
    ):
        if ids:
            shared.append(
                f"SELECT advocate_id, %s AS w FROM {table} WHERE {column} IN ({_in(ids)})"  # noqa: S608
            )
            params += [weight, *ids]
    nothing = f"SELECT advocate_id, 0 AS w FROM {products} WHERE 1 = 0"  # noqa: S608
    shared_sql = " UNION ALL ".join(shared) or nothing

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

    industry = request.prospect_industry.strip().lower()
    if industry:
        industry_sql = (
            "CASE WHEN LOWER(a.industry) = %s OR (a.industry = '' AND LOWER(c.industry) = %s) "
            "THEN %s ELSE 0 END"
        )
        industry_params = [industry, industry, weights.industry]
    else:
        industry_sql, industry_params = "0", []
    seniority_sql, seniority_params = _scale_sql(
        "a.seniority", seniority, SENIORITY_ORDER, weights.seniority
    )
    size_sql, size_params = _scale_sql(
        "c.size_band", request.prospect_company_size, SIZE_ORDER, weights.company_size
    )
    score_sql = f"({industry_sql}) + ({seniority_sql}) + ({size_sql}) + COALESCE(f.bonus, 0)"
    params += [*industry_params, *seniority_params, *size_params]
    params += [Advocate.Status.ACTIVE, True, today]
    params += [CANDIDATES - 1, weights.accept_rate, MAX_BAND]
    sql = f"""
        WITH comp AS MATERIALIZED (SELECT id, industry, size_band FROM {company}),
        feat AS (
            SELECT advocate_id, SUM(w) AS bonus FROM ({shared_sql}) s GROUP BY advocate_id
        ),
        load AS ({load_sql}),
        scored AS (
            SELECT a.id AS id, {score_sql} AS prescore
            FROM {advocate} a
            LEFT JOIN comp c ON c.id = a.company_id
            LEFT JOIN feat f ON f.advocate_id = a.id
            LEFT JOIN load l ON l.advocate_id = a.id
            WHERE a.status = %s AND a.reference_opt_in = %s
              AND a.reference_max_calls_per_90d > COALESCE(l.n, 0)
              AND COALESCE(l.blocked, 0) = 0
              AND a.id NOT IN (SELECT advocate_id FROM {pauses} WHERE until >= %s)
        ),
        cut AS (SELECT prescore FROM scored ORDER BY prescore DESC, id LIMIT 1 OFFSET %s)
        SELECT id, prescore, (SELECT prescore FROM cut) AS mark FROM scored
        WHERE prescore >= COALESCE((SELECT prescore FROM cut), -1000000) - %s
        ORDER BY prescore DESC, id
        LIMIT %s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    mark = rows[0][2] if rows else None
    return Band(prescores={pk: prescore for pk, prescore, _ in rows}, mark=mark)


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
