"""Reads for the advocates app, scoped and with their joins done."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from advocates.models import Advocate, CommunityGroup, Company, GroupMembership, Invitation, User


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


# --- Groups ------------------------------------------------------------------------------


def member_group_ids(advocate_id: int) -> QuerySet[GroupMembership, Any]:
    """The ids of the groups ``advocate_id`` is a member of (pending requests are not),
    as a subquery: ``Q(group__in=member_group_ids(advocate.pk))`` is how challenges,
    rewards and leaderboards ask "is this advocate in the group?" in their own query."""
    return GroupMembership.objects.filter(
        advocate_id=advocate_id, status=GroupMembership.Status.MEMBER
    ).values("group_id")


def is_group_member(*, advocate_id: int, group_id: int) -> bool:
    return GroupMembership.objects.filter(
        advocate_id=advocate_id, group_id=group_id, status=GroupMembership.Status.MEMBER
    ).exists()


def _member_count() -> Coalesce:
    members = (
        GroupMembership.objects.filter(group=OuterRef("pk"), status=GroupMembership.Status.MEMBER)
        .order_by()
        .values("group")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(members), Value(0))


def groups_for_advocate(advocate: Advocate) -> QuerySet[CommunityGroup]:
    """The groups an advocate sees, in one query: every open and request group, and the
    invite-only ones they belong to (or were invited into); archived ones are hidden.

    Each carries ``my_status`` (GroupMembership.Status, or None) and ``member_count``.
    """
    mine = GroupMembership.objects.filter(group=OuterRef("pk"), advocate_id=advocate.pk)
    return (
        CommunityGroup.objects.filter(archived_at__isnull=True)
        .annotate(my_status=Subquery(mine.values("status")[:1]), member_count=_member_count())
        .filter(~Q(kind=CommunityGroup.Kind.INVITE) | Q(Exists(mine)))
        .order_by("name", "id")
    )


def group_for_member(*, advocate_id: int, pk: int) -> CommunityGroup:
    """A group the advocate is a member of (not archived); CommunityGroup.DoesNotExist otherwise,
    so a non-member cannot tell a group's page from one that does not exist."""
    return CommunityGroup.objects.filter(
        archived_at__isnull=True,
        pk=pk,
        memberships__advocate_id=advocate_id,
        memberships__status=GroupMembership.Status.MEMBER,
    ).get()


def groups_for_manager(*, archived: bool = False) -> QuerySet[CommunityGroup]:
    """The console's list: counts of members and waiting requests, one query."""
    pending = (
        GroupMembership.objects.filter(group=OuterRef("pk"), status=GroupMembership.Status.PENDING)
        .order_by()
        .values("group")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        CommunityGroup.objects.filter(archived_at__isnull=not archived)
        .annotate(member_count=_member_count(), pending_count=Coalesce(Subquery(pending), Value(0)))
        .order_by("name", "id")
    )


def group_for_manager(pk: int) -> CommunityGroup:
    return CommunityGroup.objects.get(pk=pk)


def groups_choosable(*, keep: int | None = None) -> QuerySet[CommunityGroup]:
    """Groups a challenge, a reward or a segment can name: archived ones are not offered,
    except ``keep``, the one the object being edited names already."""
    return CommunityGroup.objects.filter(Q(archived_at__isnull=True) | Q(pk=keep)).order_by(
        "name", "id"
    )


def group_members(group: CommunityGroup) -> QuerySet[GroupMembership]:
    """A group's members, the newest first, with their names."""
    return (
        GroupMembership.objects.filter(group=group, status=GroupMembership.Status.MEMBER)
        .select_related("advocate__user", "advocate__company")
        .order_by("-joined_at", "-id")
    )


def group_requests(group: CommunityGroup) -> QuerySet[GroupMembership]:
    """Requests waiting for a manager, the oldest first."""
    return (
        GroupMembership.objects.filter(group=group, status=GroupMembership.Status.PENDING)
        .select_related("advocate__user", "advocate__company")
        .order_by("requested_at", "id")
    )


def group_request_for_manager(pk: int) -> GroupMembership:
    return GroupMembership.objects.select_related("group").get(pk=pk)


# --- The public API (api/): every row, program-wide; the API orders and pages them ---


def advocates_for_api() -> QuerySet[Advocate]:
    return Advocate.objects.select_related("user", "company", "owner_rep")


def companies_for_api() -> QuerySet[Company]:
    return Company.objects.all()
