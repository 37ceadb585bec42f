"""Authorization cases for the console home, analytics and exports: managers only."""

from __future__ import annotations

from tests.authz import MANAGERS, Case, World, allowed


def setup(world: World) -> None:
    from campaigns.models import Campaign

    world.objects["console_campaign"] = Campaign.objects.create(
        name="Authz drive", kind=Campaign.Kind.REFERRAL_DRIVE, subject="Hi", body="Hello"
    )


def _campaign(world: World) -> dict:
    return {"pk": world["console_campaign"].pk}


# GET-only pages: a manager's POST is 405; everyone else is refused before that.
MANAGER_ONLY_GET = allowed(roles=MANAGERS)
MANAGER_POST_405 = allowed(405, roles=MANAGERS)

CASES = [
    Case("campaigns:console", expect=MANAGER_ONLY_GET),
    Case("campaigns:console", method="post", expect=MANAGER_POST_405),
    Case("campaigns:analytics", expect=MANAGER_ONLY_GET),
    Case("campaigns:analytics", htmx=True, expect=MANAGER_ONLY_GET),
    Case("campaigns:analytics", method="post", expect=MANAGER_POST_405),
    Case("campaigns:exports", expect=MANAGER_ONLY_GET),
    Case("campaigns:exports", method="post", expect=MANAGER_POST_405),
    Case("campaigns:export", kwargs={"kind": "advocates"}, expect=MANAGER_ONLY_GET),
    Case(
        "campaigns:export",
        kwargs={"kind": "referrals"},
        data={"start": "2026-01-01", "end": "2026-01-31"},
        expect=MANAGER_ONLY_GET,
    ),
    # An unknown export is a 404 for a manager, still a 403 for anyone else.
    Case("campaigns:export", kwargs={"kind": "passwords"}, expect=allowed(404, roles=MANAGERS)),
    Case("campaigns:export", method="post", kwargs={"kind": "ledger"}, expect=MANAGER_POST_405),
    Case("campaigns:campaign_export", kwargs=_campaign, expect=MANAGER_ONLY_GET),
    Case(
        "campaigns:campaign_export",
        kwargs={"pk": 999999},
        expect=allowed(404, roles=MANAGERS),
    ),
    Case("campaigns:campaign_export", method="post", kwargs=_campaign, expect=MANAGER_POST_405),
]
