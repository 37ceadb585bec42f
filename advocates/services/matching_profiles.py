"""Keeping ``MatchingProfile`` (what reference matching's prescore reads of each
advocate who takes calls) in step with the rows it is computed from.

Every write of those facts calls ``matching_profiles_refresh`` inside its transaction:
the profile page (fields, products, tags), joining, the admin (advocates, companies,
products, tags), the CRM's company sync and the imports, set-wise for many advocates.
Each advocate's row is recomputed from their advocate, company and link rows, never
patched, so a refresh is right whatever the row held before.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Model

from advocates.models import Advocate, Company, MatchingProfile
from advocates.services.locks import advocates_locked
from core.cache import ADVOCATES_GENERATION_KEY, cache_version_bump

# Advocates per statement: bounded parameters (SQLite) and locks per round trip.
CHUNK = 500


def _ids_text(through: type[Model], column: str) -> str:
    """One advocate's ids in a link table as " 3 5 " (SQL over ``a``, the advocate)."""
    if connection.vendor == "postgresql":
        joined = f"string_agg(x.{column}::text, ' ' ORDER BY x.{column})"
    else:
        joined = f"group_concat(x.{column}, ' ')"
    table = connection.ops.quote_name(through._meta.db_table)
    return (
        f"COALESCE((SELECT ' ' || {joined} || ' ' FROM {table} x "  # noqa: S608
        "WHERE x.advocate_id = a.id), '')"
    )


def profiles_sql(where: str) -> str:
    """INSERT ... SELECT of the profiles of the advocates ``where`` (SQL over ``a``, the
    advocate, with %s placeholders) who take calls; three parameters follow it: the
    active status, True, and 0 (the cap must be above it)."""
    q = connection.ops.quote_name
    return f"""
        INSERT INTO {q(MatchingProfile._meta.db_table)}
            (advocate_id, industry, seniority, size_band, calls_cap, products, tags)
        SELECT a.id,
               LOWER(CASE WHEN a.industry <> '' THEN a.industry ELSE COALESCE(c.industry, '') END),
               a.seniority, COALESCE(c.size_band, ''), a.reference_max_calls_per_90d,
               {_ids_text(Advocate.products.through, "product_id")},
               {_ids_text(Advocate.tags.through, "tag_id")}
        FROM {q(Advocate._meta.db_table)} a
        LEFT JOIN {q(Company._meta.db_table)} c ON c.id = a.company_id
        WHERE ({where}) AND a.status = %s AND a.reference_opt_in = %s
          AND a.reference_max_calls_per_90d > %s
    """  # noqa: S608


def _refresh(ids: list[int]) -> bool:
    # The advocates' rows locked in id order first: two writers of one advocate's facts
    # (a profile save, a company sync) recompute one after the other, and the second
    # reads what the first committed rather than overwriting it with an older snapshot.
    ids = advocates_locked(ids)
    if not ids:
        return False
    deleted, _ = MatchingProfile.objects.filter(advocate_id__in=ids).delete()
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(profiles_sql(f"a.id IN ({marks})"), [*ids, Advocate.Status.ACTIVE, True, 0])
        return bool(deleted or cursor.rowcount)


def matching_profiles_refresh(
    *, advocate_ids: Iterable[int] = (), company_ids: Iterable[int] = ()
) -> None:
    """Recompute the matching profiles of these advocates and of every advocate of these
    companies (a company's industry and size band are part of its advocates' profiles);
    when any changed, the bands matching keeps are dropped on commit."""
    ids = set(advocate_ids)
    companies = sorted(set(company_ids))
    if not ids and not companies:
        return
    with transaction.atomic():
        for start in range(0, len(companies), CHUNK):
            ids.update(
                Advocate.objects.filter(company_id__in=companies[start : start + CHUNK])
                .values_list("pk", flat=True)
                .order_by()
            )
        ordered = sorted(ids)
        changed = False
        for start in range(0, len(ordered), CHUNK):
            changed = _refresh(ordered[start : start + CHUNK]) or changed
        if changed:
            # The bands reference matching keeps were chosen from the old profiles:
            # dropped once this commits.
            cache_version_bump(ADVOCATES_GENERATION_KEY)


def matching_profiles_rebuild() -> None:
    """Recompute every advocate's matching profile (demo data, a repair after raw edits)."""
    ids = Advocate.objects.order_by("pk").values_list("pk", flat=True)
    matching_profiles_refresh(advocate_ids=ids.iterator(chunk_size=5000))
