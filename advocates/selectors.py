"""Reads for the advocates app, scoped and with their joins done."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from advocates.models import Advocate, Invitation, User


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
    return list(
        Advocate.objects.exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )
