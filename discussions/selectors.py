"""Reads for the community: every query scopes to the viewer, so a thread the viewer
may not see is a 404 (Thread.DoesNotExist), never a leak.

Search is ``icontains`` over titles and bodies on every database: the same results on
SQLite and PostgreSQL, and a community's few thousand threads scan in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from advocates.models import Advocate, CommunityGroup, User
from advocates.selectors import member_group_ids
from core.roles import Role, user_roles
from discussions.models import Reply, Report, Thread, Vote


@dataclass(frozen=True)
class Viewer:
    """Who is reading: a manager sees everything (hidden posts greyed), an advocate
    the program's threads and their groups', never a hidden post."""

    user: User
    advocate_id: int | None
    is_manager: bool


def viewer_for(user: User) -> Viewer:
    roles = user_roles(user)
    advocate_id = None
    if Role.ADVOCATE in roles:
        advocate_id = Advocate.objects.filter(user=user).values_list("pk", flat=True).first()
    return Viewer(user=user, advocate_id=advocate_id, is_manager=Role.MANAGER in roles)


def _visible(viewer: Viewer) -> Q:
    if viewer.is_manager:
        return Q()
    if viewer.advocate_id is None:
        return Q(pk__in=[])
    return Q(hidden_at__isnull=True) & (
        Q(group__isnull=True)
        | Q(group__in=member_group_ids(viewer.advocate_id), group__archived_at__isnull=True)
    )


def threads_for(
    viewer: Viewer, *, q: str = "", kind: str = "", group_id: int | None = None
) -> QuerySet[Thread]:
    threads = Thread.objects.filter(_visible(viewer)).select_related("author", "group")
    if kind in Thread.Kind.values:
        threads = threads.filter(kind=kind)
    if group_id is not None:
        threads = threads.filter(group_id=group_id)
    q = q.strip()
    if q:
        threads = threads.filter(
            Q(title__icontains=q)
            | Q(body__icontains=q)
            | Exists(
                Reply.objects.filter(thread=OuterRef("pk"), body__icontains=q).filter(
                    Q() if viewer.is_manager else Q(hidden_at__isnull=True)
                )
            )
        )
    if viewer.advocate_id is not None:
        threads = threads.annotate(
            voted=Exists(Vote.objects.filter(thread=OuterRef("pk"), advocate_id=viewer.advocate_id))
        )
    return threads.order_by("-last_activity_at", "-id")


def thread_for(viewer: Viewer, pk: int) -> Thread:
    """One thread the viewer may see, with its replies (hidden ones for managers only)."""
    replies = Reply.objects.select_related("author", "hidden_by").order_by("created_at", "id")
    if not viewer.is_manager:
        replies = replies.filter(hidden_at__isnull=True)
    threads = threads_for(viewer).select_related("hidden_by", "locked_by")
    return threads.prefetch_related(Prefetch("replies", queryset=replies)).get(pk=pk)


def groups_to_post_in(viewer: Viewer) -> QuerySet[CommunityGroup]:
    """The groups the viewer may start a thread in: their own (any, for a manager)."""
    groups = CommunityGroup.objects.filter(archived_at__isnull=True)
    if not viewer.is_manager:
        if viewer.advocate_id is None:
            return groups.none()
        groups = groups.filter(pk__in=member_group_ids(viewer.advocate_id))
    return groups.order_by("name", "id")


def open_reports() -> QuerySet[Report]:
    """The moderation queue: open reports, the oldest first, with what they point at."""
    return (
        Report.objects.filter(resolved_at__isnull=True)
        .select_related("thread", "reply__author", "reporter", "thread__author")
        .order_by("created_at", "id")
    )
