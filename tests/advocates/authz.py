from tests.authz import ADVOCATES, STAFF, Case, World, allowed, everyone


def setup(world: World) -> None:
    from tests.factories import InvitationFactory

    world.objects["invitation"] = InvitationFactory(invited_by=world.rep)


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

# The audit log (issue 8, hardening): managers only, page and its htmx results fragment.
CASES += [
    Case("core:audit", expect=allowed(roles=("manager",))),
    Case("core:audit", htmx=True, expect=allowed(roles=("manager",))),
    Case("core:audit", method="post", expect=allowed(405, roles=("manager",))),
]
