"""Demo: two saved segments, found again by name (running twice changes nothing)."""

from __future__ import annotations

from typing import TextIO

from advocates.models import User
from campaigns.models import Segment
from campaigns.segments import SegmentFilters, segment_advocates

DEMO_SEGMENTS = (
    (
        "Promoters who have not referred",
        "Said they would recommend us (NPS 9–10) but have not referred anyone yet: "
        "the best people to ask next.",
        SegmentFilters(nps=("promoter",), has_referred=False),
    ),
    (
        "Ready for a reference call",
        "Opted in, not on a break, under their own cap, and already active this program.",
        SegmentFilters(reference_available=True, ams_min=1),
    ),
)


def load(stdout: TextIO) -> None:
    manager = User.objects.filter(email="manager@demo.vouch").first()
    for name, description, spec in DEMO_SEGMENTS:
        segment, created = Segment.objects.get_or_create(
            name=name,
            defaults={"description": description, "filters": spec.to_dict(), "created_by": manager},
        )
        members = segment_advocates(segment.filters).count()
        state = "created" if created else "kept"
        stdout.write(f"Segment “{name}”: {state}, {members} members.")
