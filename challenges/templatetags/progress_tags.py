"""Level, badges and notifications blocks for the hub, the profile and the manager's view."""

from __future__ import annotations

from typing import Any

from django import template

from advocates.models import Advocate
from challenges.selectors import progress

register = template.Library()


@register.inclusion_tag("challenges/partials/progress_panel.html")
def progress_panel(advocate: Advocate) -> dict[str, Any]:
    """The hub's block: my level, the way to the next one, my badges, what is new.

    Three queries (levels, badges, unread notifications), whatever their number.
    """
    notifications = progress.notifications_unread(advocate_id=advocate.pk)
    return {
        "level": progress.level_progress(advocate.lifetime_points),
        "badges": progress.badges_of(advocate_id=advocate.pk),
        "notifications": notifications[: progress.NOTIFICATIONS_SHOWN],
        "more_notifications": len(notifications) > progress.NOTIFICATIONS_SHOWN,
        "own": True,
    }


@register.inclusion_tag("challenges/partials/progress_summary.html")
def progress_summary(advocate: Advocate, *, own: bool = False) -> dict[str, Any]:
    """Level and badges in a compact form (the profile's aside, the manager's view)."""
    return {
        "level": progress.level_progress(advocate.lifetime_points),
        "badges": progress.badges_of(advocate_id=advocate.pk),
        "own": own,
    }
