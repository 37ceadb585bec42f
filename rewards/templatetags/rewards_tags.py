from __future__ import annotations

from django import template

from advocates.models import Advocate
from rewards import selectors

register = template.Library()


@register.inclusion_tag("rewards/hub_rewards.html")
def hub_rewards(advocate: Advocate) -> dict:
    """The hub's rewards card: what I can redeem (or the closest), and my open redemptions.

    Two queries at most three, whatever the size of the catalog.
    """
    rewards = selectors.hub_rewards(advocate=advocate)
    return {
        "advocate": advocate,
        "rewards": rewards,
        "can_redeem": bool(rewards) and rewards[0].rank == selectors.CatalogRank.REDEEMABLE,
        "open_redemptions": selectors.redemptions_open_for_advocate(advocate_id=advocate.pk),
    }


@register.inclusion_tag("rewards/hub_points.html")
def hub_points(advocate: Advocate) -> dict:
    """The hub's recent points: the last ten ledger entries, newest first (one query)."""
    return {"entries": selectors.ledger_recent(advocate_id=advocate.pk, limit=10)}


@register.inclusion_tag("rewards/points_history.html")
def points_history(advocate: Advocate, limit: int = 20) -> dict:
    """An advocate's last ``limit`` ledger entries, for staff (one query)."""
    return {"entries": selectors.ledger_recent(advocate_id=advocate.pk, limit=limit)}
