"""What each kind of campaign adds (owned by the kinds/triggers work).

Contract used by sending (campaigns.sending):

- ``audience(campaign)`` → None when the campaign's recipients are its segment's
  advocates; otherwise an iterable of ``Recipient`` (invitation contacts, the advocates
  and prospects a reference drive pairs, the advocate a trigger fired for...).
- ``message_context(message)`` → extra placeholder values for one message
  (e.g. ``referral_link``, ``challenge_link``, ``invitation_link``, ``prospect_name``).
- ``PLACEHOLDERS`` → kind → the extra placeholder names that kind allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from campaigns.models import Campaign, CampaignMessage


@dataclass(frozen=True)
class Recipient:
    email: str
    first_name: str = ""
    last_name: str = ""
    advocate_id: int | None = None
    context: dict = field(default_factory=dict)


PLACEHOLDERS: dict[str, frozenset[str]] = {
    Campaign.Kind.INVITATION: frozenset(),
    Campaign.Kind.CHALLENGE: frozenset(),
    Campaign.Kind.REFERRAL_DRIVE: frozenset(),
    Campaign.Kind.REFERENCE_DRIVE: frozenset(),
}


def audience(campaign: Campaign) -> Iterable[Recipient] | None:
    return None


def message_context(message: CampaignMessage) -> dict[str, str]:
    return {}
