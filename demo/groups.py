"""Demo: two groups, found again by name (running twice changes nothing).

An open one Ada and Dana belong to (its leaderboard has people on it), and an invite-only
one with nobody in it yet: the manager's page shows its invite link to hand out.
"""

from __future__ import annotations

from typing import TextIO

from advocates.models import Advocate, CommunityGroup, GroupMembership, User
from advocates.services.groups import group_create, group_join

DEMO_GROUPS = (
    (
        "Healthcare & finance admins",
        "Admins in regulated industries: compliance questions, audit tips, early looks at "
        "what we build for you.",
        CommunityGroup.Kind.OPEN,
        ("advocate@demo.vouch", "dana@demo.vouch"),
    ),
    (
        "Customer advisory board",
        "A small circle that sees the roadmap first and tells us what to build. By invitation.",
        CommunityGroup.Kind.INVITE,
        (),
    ),
)


def load(stdout: TextIO) -> None:
    manager = User.objects.filter(email="manager@demo.vouch").first()
    for name, description, kind, emails in DEMO_GROUPS:
        group = CommunityGroup.objects.filter(name=name).first()
        created = group is None
        if group is None:
            group = group_create(
                data={"name": name, "description": description, "kind": kind}, by=manager
            )
        for advocate in Advocate.objects.filter(user__email__in=emails):
            if group.kind == CommunityGroup.Kind.OPEN:
                group_join(group_id=group.pk, advocate_id=advocate.pk)
        members = group.memberships.filter(status=GroupMembership.Status.MEMBER).count()
        state = "created" if created else "kept"
        stdout.write(f"Group “{name}”: {state}, {members} members.")
