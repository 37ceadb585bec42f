"""``{% campaigns_hub advocate %}``: the hub's "Your referral drives" panel."""

from __future__ import annotations

from typing import Any

from django import template

from advocates.models import Advocate
from campaigns.selectors import referral_drives_context

register = template.Library()


@register.inclusion_tag("campaigns/partials/hub_drives.html")
def campaigns_hub(advocate: Advocate) -> dict[str, Any]:
    return referral_drives_context(advocate) | {
        "sent_drive": None,
        "error": "",
        "notice": "",
        "form_data": None,
    }
