"""Writes of staff single sign-on: the manager and rep groups follow the identity provider."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from advocates.models import User
from core.audit import audit_record
from core.roles import MANAGERS_GROUP, REPS_GROUP, Role

ROLE_GROUPS = {Role.MANAGER: MANAGERS_GROUP, Role.REP: REPS_GROUP}


def staff_groups_sync(*, user: User, roles: frozenset[Role], provider: str) -> dict[str, list[str]]:
    """Make ``user``'s manager and rep groups exactly ``roles`` (what the IdP asserted at
    this sign-in): add the missing, remove the others, and audit any change. Other groups
    and the admin flags are left alone (the Django admin stays an operator's decision)."""
    wanted = {ROLE_GROUPS[role] for role in roles if role in ROLE_GROUPS}
    with transaction.atomic():
        held = set(user.groups.filter(name__in=ROLE_GROUPS.values()).values_list("name", flat=True))
        added = sorted(wanted - held)
        removed = sorted(held - wanted)
        if added:
            groups = [Group.objects.get_or_create(name=name)[0] for name in added]
            user.groups.add(*groups)
        if removed:
            user.groups.remove(*Group.objects.filter(name__in=removed))
        if added or removed:
            audit_record(
                actor=None,
                action="user.sso_groups",
                target=user,
                detail={"added": added, "removed": removed, "provider": provider},
            )
    # The roles read with this user object (core.roles) are now out of date; the next
    # request reads them afresh with the user (core.auth_backends), so nothing else caches.
    for attribute in ("_vouch_roles", "vouch_role_manager", "vouch_role_rep"):
        user.__dict__.pop(attribute, None)
    return {"added": added, "removed": removed}
