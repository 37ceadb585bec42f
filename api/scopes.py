"""The scopes an API key may hold: one per resource, read-only for now.

A scope's name is ``<resource>:read``; the resource is the API's path segment, so the
authorization test can tell from the OpenAPI document which scope each operation needs.
"""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "advocates:read": "Advocates: name, email, company, status, points, AMS",
    "companies:read": "Companies",
    "challenges:read": "Challenges",
    "submissions:read": "Challenge submissions and their review",
    "rewards:read": "The reward catalog",
    "redemptions:read": "Redemptions and their fulfilment status",
    "referrals:read": "Referrals and their pipeline stage",
    "reference-requests:read": "Reference requests and their outcome",
    "ledger:read": "The points ledger",
}
