"""Authorization cases for segments and the AMS weights (managers only)."""

from __future__ import annotations

from tests.authz import MANAGERS, Case, World, allowed


def setup(world: World) -> None:
    from campaigns.models import Segment

    world.objects["segment"] = Segment.objects.create(
        name="Authz promoters", filters={"nps": ["promoter"]}
    )


def _segment(world: World) -> dict:
    return {"pk": world["segment"].pk}


def _fresh_segment(world: World) -> dict:
    # Deleting needs a segment of its own per request: the manager's POST deletes it.
    from campaigns.models import Segment

    return {"pk": Segment.objects.create(name="Authz to delete", filters={}).pk}


BAD_FILTER = {"name": "X", "ams_min": "90", "ams_max": "10"}  # 400: shown with the error
BAD_WEIGHTS = {"reviews": "-1"}

CASES = [
    Case("campaigns:segment_list", expect=allowed(roles=MANAGERS)),
    Case("campaigns:segment_create", expect=allowed(roles=MANAGERS)),
    Case("campaigns:segment_create", htmx=True, expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:segment_create",
        method="post",
        data=BAD_FILTER,
        expect=allowed(400, roles=MANAGERS),
    ),
    Case("campaigns:segment_detail", kwargs=_segment, expect=allowed(roles=MANAGERS)),
    Case("campaigns:segment_detail", kwargs=_segment, htmx=True, expect=allowed(roles=MANAGERS)),
    Case("campaigns:segment_edit", kwargs=_segment, expect=allowed(roles=MANAGERS)),
    Case("campaigns:segment_edit", kwargs=_segment, htmx=True, expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:segment_edit",
        method="post",
        kwargs=_segment,
        data=BAD_FILTER,
        expect=allowed(400, roles=MANAGERS),
    ),
    Case("campaigns:segment_delete", kwargs=_segment, expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:segment_delete",
        method="post",
        kwargs=_fresh_segment,
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("campaigns:segment_export", kwargs=_segment, expect=allowed(roles=MANAGERS)),
    Case("console:ams", expect=allowed(roles=MANAGERS)),
    Case("console:ams", method="post", data=BAD_WEIGHTS, expect=allowed(400, roles=MANAGERS)),
]
