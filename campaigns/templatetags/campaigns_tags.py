"""``{% campaigns_hub advocate %}``: the hub's "Your referral drives" panel."""

from __future__ import annotations

import re

from django import template

from advocates.models import Advocate
from campaigns.models import Campaign, CampaignMessage
from core.models import ProgramSettings

register = template.Library()

DRIVES_SHOWN = 3
# When the manager wrote no message for advocates to send, they start from this one.
DEFAULT_SUGGESTED = """Hi,

I have been using {{ program_name }} at work and I think it would help you too. \
Here is a link to talk to the team:

{{ referral_link }}

Best,
{{ first_name }}"""
_TAG = re.compile(r"{{\s*([a-z_][a-z0-9_]*)\s*}}")


def suggested_text(text: str, values: dict[str, str]) -> str:
    """The drive's pre-written message with the advocate's own values filled in
    (plain text: it goes into a textarea the advocate edits)."""
    return _TAG.sub(lambda match: values.get(match.group(1), ""), text or "")


def drives_context(advocate: Advocate) -> dict:
    """Active referral drives this advocate was sent, newest first (two queries)."""
    from campaigns.kinds import referral_link
    from campaigns.kinds_services import REFERRAL_DRIVE_ACTIVE

    received = list(
        CampaignMessage.objects.filter(
            advocate=advocate,
            status=CampaignMessage.Status.SENT,
            campaign__kind=Campaign.Kind.REFERRAL_DRIVE,
            campaign__status__in=REFERRAL_DRIVE_ACTIVE,
        )
        .select_related("campaign")
        .order_by("-sent_at", "-id")[:DRIVES_SHOWN]
    )
    drives = []
    if received:
        values = {
            "referral_link": referral_link(advocate.pk),
            "first_name": advocate.user.first_name,
            "last_name": advocate.user.last_name,
            "program_name": ProgramSettings.load().display_name,
        }
        for message in received:
            campaign = message.campaign
            drives.append(
                {
                    "campaign": campaign,
                    "message": suggested_text(
                        campaign.suggested_message or DEFAULT_SUGGESTED, values
                    ),
                }
            )
    return {"advocate": advocate, "drives": drives}


@register.inclusion_tag("campaigns/partials/hub_drives.html")
def campaigns_hub(advocate: Advocate) -> dict:
    return drives_context(advocate) | {
        "sent_drive": None,
        "error": "",
        "notice": "",
        "form_data": None,
    }
