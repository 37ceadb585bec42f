"""Posting a signed CRM event the way a CRM does (the secret of tests/referrals/conftest.py)."""

from __future__ import annotations

import json

from django.test import Client

from referrals.webhooks import sign

SECRET = "whsec_test"


def post_event(event: dict) -> tuple[int, dict]:
    """POST ``event`` to /api/crm/events signed with the inbound secret: (status, JSON)."""
    body = json.dumps(event).encode()
    response = Client().post(
        "/api/crm/events",
        data=body,
        content_type="application/json",
        HTTP_VOUCH_SIGNATURE=sign(body, secret=SECRET),
    )
    return response.status_code, response.json()
