"""Authorization cases for the console home, analytics, exports, forecast and ROI:
managers only; and the Signals page, which reps see too (their own signals)."""

from __future__ import annotations

from tests.authz import MANAGERS, STAFF, Case, World, allowed


def setup(world: World) -> None:
    from campaigns.models import Campaign
    from console.models import AmsIndustryWeights

    world.objects["console_campaign"] = Campaign.objects.create(
        name="Authz drive", kind=Campaign.Kind.REFERRAL_DRIVE, subject="Hi", body="Hello"
    )
    world.objects["ams_industry"] = AmsIndustryWeights.objects.create(for_industry="Retail")


def _campaign(world: World) -> dict:
    return {"pk": world["console_campaign"].pk}


# GET-only pages: a manager's POST is 405; everyone else is refused before that.
MANAGER_ONLY_GET = allowed(roles=MANAGERS)
MANAGER_POST_405 = allowed(405, roles=MANAGERS)

CASES = [
    Case("console:home", expect=MANAGER_ONLY_GET),
    Case("console:home", method="post", expect=MANAGER_POST_405),
    Case("console:analytics", expect=MANAGER_ONLY_GET),
    Case("console:analytics", htmx=True, expect=MANAGER_ONLY_GET),
    Case("console:analytics", method="post", expect=MANAGER_POST_405),
    Case("console:exports", expect=MANAGER_ONLY_GET),
    Case("console:exports", method="post", expect=MANAGER_POST_405),
    Case("console:export", kwargs={"kind": "advocates"}, expect=MANAGER_ONLY_GET),
    Case(
        "console:export",
        kwargs={"kind": "referrals"},
        data={"start": "2026-01-01", "end": "2026-01-31"},
        expect=MANAGER_ONLY_GET,
    ),
    # An unknown export is a 404 for a manager, still a 403 for anyone else.
    Case("console:export", kwargs={"kind": "passwords"}, expect=allowed(404, roles=MANAGERS)),
    Case("console:export", method="post", kwargs={"kind": "ledger"}, expect=MANAGER_POST_405),
    Case("console:campaign_export", kwargs=_campaign, expect=MANAGER_ONLY_GET),
    Case(
        "console:campaign_export",
        kwargs={"pk": 999999},
        expect=allowed(404, roles=MANAGERS),
    ),
    Case("console:campaign_export", method="post", kwargs=_campaign, expect=MANAGER_POST_405),
    Case("console:referral_forecast", expect=MANAGER_ONLY_GET),
    Case("console:referral_forecast", data={"quarter": "2026-Q1"}, expect=MANAGER_ONLY_GET),
    # A POST without a goal re-renders the form with its errors (nothing saved).
    Case("console:referral_forecast", method="post", data={}, expect=MANAGER_ONLY_GET),
    Case("console:program_roi", expect=MANAGER_ONLY_GET),
    Case("console:program_roi", method="post", expect=MANAGER_POST_405),
    Case("console:signals", expect=allowed(roles=STAFF)),
    Case("console:signals", method="post", expect=allowed(405, roles=STAFF)),
]


def _ams_industry(world: World) -> dict:
    return {"pk": world["ams_industry"].pk}


CASES += [
    Case("console:ams_industry_new", expect=MANAGER_ONLY_GET),
    # A POST without the form re-renders it with its errors (nothing saved).
    Case("console:ams_industry_new", method="post", data={}, expect=allowed(400, roles=MANAGERS)),
    Case("console:ams_industry", kwargs=_ams_industry, expect=MANAGER_ONLY_GET),
    Case("console:ams_industry", kwargs={"pk": 999999}, expect=allowed(404, roles=MANAGERS)),
]
