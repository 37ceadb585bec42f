"""The scopes an API key may hold: one per resource, read-only for now.

A scope's name is ``<resource>:read``; the resource is the API's path segment, so the
authorization test can tell from the OpenAPI document which scope each operation needs.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

# The meanings are shown on the API keys page (translated); the names are identifiers.
SCOPES: dict[str, Any] = {
    "advocates:read": gettext_lazy("Advocates: name, email, company, status, points, AMS"),
    "companies:read": gettext_lazy("Companies"),
    "challenges:read": gettext_lazy("Challenges"),
    "submissions:read": gettext_lazy("Challenge submissions and their review"),
    "rewards:read": gettext_lazy("The reward catalog"),
    "redemptions:read": gettext_lazy("Redemptions and their fulfilment status"),
    "referrals:read": gettext_lazy("Referrals and their pipeline stage"),
    "reference-requests:read": gettext_lazy("Reference requests and their outcome"),
    "ledger:read": gettext_lazy("The points ledger"),
}
