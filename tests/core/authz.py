"""Authorization cases for the program settings page and the public brand stylesheet."""

from __future__ import annotations

from tests.authz import MANAGERS, Case, allowed, everyone

CASES = [
    Case("core:settings", expect=allowed(roles=MANAGERS)),
    # Invalid (no colour): the form comes back with its errors, nothing saved.
    Case(
        "core:settings",
        method="post",
        data={"name": "x", "primary_color": "", "fatigue_cap_per_week": "2"},
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "core:settings",
        method="post",
        data={
            "name": "Authz",
            "primary_color": "#0f766e",
            "fatigue_cap_per_week": "2",
            "max_deal_amount": "100000000",
            "max_points_per_event": "1000000",
        },
        expect=allowed(302, roles=MANAGERS),
    ),
    # Every page links it, the sign-in and prospect pages included.
    Case("core:brand_css", expect=everyone(200)),
    Case("core:brand_css", method="post", expect=everyone(405)),
]
