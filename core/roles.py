"""Who may use what: the one permission layer every view goes through.

Roles: an *advocate* is a user with an active Advocate profile; *sales reps* and
*community managers* are Django groups; *admins* use Django admin (staff). A
prospect has no account: they hold a signed link checked by the view that serves it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Value
from django.http import HttpRequest, HttpResponse

MANAGERS_GROUP = "Community managers"
REPS_GROUP = "Sales reps"
# advocates.models.Advocate.Status.ACTIVE: the status that makes a user an advocate.
ADVOCATE_ACTIVE = "active"


class Role(StrEnum):
    ADVOCATE = "advocate"
    REP = "rep"
    MANAGER = "manager"


def user_roles(user: Any) -> frozenset[Role]:
    """The roles of a user, computed once per request and cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_vouch_roles", None)
    if cached is not None:
        return cached
    # One query on every page: the user's group names, and a row for an active profile
    # (the advocates app's profile, reached through the user model's reverse relation).
    rows = list(
        user.groups.annotate(source=Value("group", output_field=CharField()))
        .values_list("source", "name")
        .union(
            get_user_model()
            .objects.filter(pk=user.pk, advocate__status=ADVOCATE_ACTIVE)
            .annotate(
                source=Value("advocate", output_field=CharField()),
                label=Value("", output_field=CharField()),
            )
            .values_list("source", "label")
        )
    )
    groups = {name for source, name in rows if source == "group"}
    roles: set[Role] = set()
    if MANAGERS_GROUP in groups:
        roles.add(Role.MANAGER)
    if REPS_GROUP in groups:
        roles.add(Role.REP)
    if any(source == "advocate" for source, _name in rows):
        roles.add(Role.ADVOCATE)
    user._vouch_roles = frozenset(roles)
    return user._vouch_roles


def has_role(user: Any, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: Role) -> Callable:
    """Signed-in users holding one of ``roles``; anyone else gets 403 (anonymous: login)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied("This page is not part of your role.")
            return view(request, *args, **kwargs)

        # Read by the authorization test. mypy types a function as a Callable, which has
        # no attributes to set.
        wrapped.vouch_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


advocate_required = role_required(Role.ADVOCATE)
manager_required = role_required(Role.MANAGER)
staff_required = role_required(Role.MANAGER, Role.REP)


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view as deliberately open to anyone (landing pages, signed links, health)."""
    view.vouch_public = True  # type: ignore[attr-defined]  # as vouch_roles above
    return view
