"""Reads for the advocates app, scoped and with their joins done."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from advocates.models import Advocate, Company, Invitation, User


def advocate_for_user(user: User) -> Advocate:
    return Advocate.objects.select_related("user", "company", "owner_rep").get(user=user)


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def advocate_directory(
    *, query: str = "", status: str = "", industry: str = "", owner_id: int | None = None
) -> QuerySet[Advocate]:
    # Namesakes by account age: (last_name, first_name, id) is the user_name index,
    # so a page is an index walk instead of a sort of every advocate.
    advocates = Advocate.objects.select_related("user", "company", "owner_rep").order_by(
        "user__last_name", "user__first_name", "user__id"
    )
    if query:
        advocates = advocates.filter(
            Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
            | Q(user__email__icontains=query)
            | Q(company__name__icontains=query)
            | Q(title__icontains=query)
        )
    if status:
        advocates = advocates.filter(status=status)
    if industry:
        advocates = advocates.filter(industry__iexact=industry)
    if owner_id:
        advocates = advocates.filter(owner_rep_id=owner_id)
    return advocates


def advocates_with_details() -> QuerySet[Advocate]:
    return Advocate.objects.select_related("user", "company", "owner_rep").prefetch_related(
        "products", "tags"
    )


def invitations_visible_to(user: User, *, see_all: bool) -> QuerySet[Invitation]:
    """Managers see every invitation; a rep sees the ones they sent."""
    invitations = Invitation.objects.select_related("invited_by", "accepted_by")
    return invitations if see_all else invitations.filter(invited_by=user)


def industries() -> list[str]:
    """The advocates' distinct industries, sorted (the filters' choices).

    A recursive "skip scan": each step asks the ``advocate_industry`` index for the next
    value above the last one, so the cost is one index probe per industry (a handful),
    not a DISTINCT over every advocate (neither PostgreSQL nor SQLite skips through an
    index by itself). Same SQL on both.
    """
    table = connection.ops.quote_name(Advocate._meta.db_table)
    # Only the quoted table name is formatted in; there are no values.
    sql = f"""
        WITH RECURSIVE found(industry) AS (
            SELECT (SELECT industry FROM {table} WHERE industry > '' ORDER BY industry LIMIT 1)
            UNION ALL
            SELECT (
                SELECT a.industry FROM {table} a
                WHERE a.industry > found.industry ORDER BY a.industry LIMIT 1
            )
            FROM found WHERE found.industry IS NOT NULL
        )
        SELECT industry FROM found WHERE industry IS NOT NULL
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


# --- The public API (api/): every row, program-wide; the API orders and pages them ---


def advocates_for_api() -> QuerySet[Advocate]:
    return Advocate.objects.select_related("user", "company", "owner_rep")


def companies_for_api() -> QuerySet[Company]:
    return Company.objects.all()
