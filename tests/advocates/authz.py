from tests.authz import ADVOCATES, MANAGERS, STAFF, Case, World, allowed, everyone


def setup(world: World) -> None:
    from advocates.models import CommunityGroup, GroupMembership
    from tests.factories import GroupFactory, GroupMembershipFactory, InvitationFactory

    world.objects["invitation"] = InvitationFactory(invited_by=world.rep)
    # ``advocate`` is a member of the group and ``other_advocate`` asks to join it.
    group = GroupFactory(name="Authz group", kind=CommunityGroup.Kind.REQUEST)
    GroupMembershipFactory(group=group, advocate=world.advocate)
    world.objects["group"] = group
    world.objects["group_request"] = GroupMembershipFactory(
        group=group, advocate=world.other_advocate, status=GroupMembership.Status.PENDING
    )


def _group(world: World) -> dict:
    return {"pk": world["group"].pk}


def _group_token(world: World) -> dict:
    from advocates.links import group_invite_token

    return {"token": group_invite_token(world["group"])}


def _token(world: World) -> dict:
    from advocates.links import invitation_token

    return {"token": invitation_token(world["invitation"])}


CASES = [
    Case("home", expect=allowed(302, roles=ADVOCATES + STAFF, overrides={"admin": 302})),
    Case("healthz", expect=everyone(200)),
    Case("readyz", expect=everyone(200)),
    Case("metrics", expect=everyone(404)),  # off without METRICS_TOKEN (tests/core)
    # The company IdP's OpenID Connect callback: 404 while SSO is not configured
    # (tests/advocates/test_sso_oidc.py signs in through it).
    Case("sso_oidc_callback", expect=everyone(404)),
    Case("advocates:hub", expect=allowed(roles=ADVOCATES)),
    Case("advocates:profile", expect=allowed(roles=ADVOCATES)),
    Case("advocates:directory", expect=allowed(roles=STAFF)),
    Case("advocates:directory", htmx=True, expect=allowed(roles=STAFF)),
    Case(
        "advocates:detail",
        kwargs=lambda w: {"pk": w.other_advocate.pk},
        expect=allowed(roles=STAFF),
    ),
    Case("advocates:invite", expect=allowed(roles=STAFF)),
    # The invitation link is for the invited address: anyone may open it, but someone
    # signed in as another address is told to sign out (403).
    Case("advocates:accept", kwargs=_token, expect=allowed(403, roles=(), anonymous=200)),
    Case(
        "advocates:accept_linkedin",
        method="post",
        kwargs=_token,
        # LinkedIn is not configured in tests: everyone is sent back to the link page.
        expect=everyone(302),
    ),
]

# Groups (issue 19): advocates join, ask, leave and open invite links; managers run them.
CASES += [
    Case("advocates:groups", expect=allowed(roles=ADVOCATES)),
    # Joining a request group asks (302 back to the groups page); leaving is idempotent.
    Case(
        "advocates:group_join", method="post", kwargs=_group, expect=allowed(302, roles=ADVOCATES)
    ),
    Case(
        "advocates:group_leave", method="post", kwargs=_group, expect=allowed(302, roles=ADVOCATES)
    ),
    # The invite link: signed-in advocates see the group (staff are no advocates).
    Case("advocates:group_invite", kwargs=_group_token, expect=allowed(roles=ADVOCATES)),
    Case("advocates:group_manage", expect=allowed(roles=MANAGERS)),
    Case("advocates:group_create", expect=allowed(roles=MANAGERS)),
    Case("advocates:group_detail", kwargs=_group, expect=allowed(roles=MANAGERS)),
    Case("advocates:group_edit", kwargs=_group, expect=allowed(roles=MANAGERS)),
    Case(
        "advocates:group_archive", method="post", kwargs=_group, expect=allowed(302, roles=MANAGERS)
    ),
    Case(
        "advocates:group_rotate", method="post", kwargs=_group, expect=allowed(302, roles=MANAGERS)
    ),
    Case(
        "advocates:group_request_decide",
        method="post",
        kwargs=lambda w: {"pk": w["group_request"].pk},
        data={"decision": "decline"},
        expect=allowed(302, roles=MANAGERS),
    ),
]

# The audit log (issue 8, hardening): managers only, page and its htmx results fragment.
CASES += [
    Case("core:audit", expect=allowed(roles=("manager",))),
    Case("core:audit", htmx=True, expect=allowed(roles=("manager",))),
    Case("core:audit", method="post", expect=allowed(405, roles=("manager",))),
]
