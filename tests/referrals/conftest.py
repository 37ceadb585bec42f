from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _crm_secret(settings) -> None:
    settings.CRM_INBOUND_SECRET = "whsec_test"
    settings.REFERRAL_DAILY_LIMIT = 10
    settings.REFERRAL_LANDING_MAX_POSTS = 5
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def owned_advocate(advocate, rep):
    """`advocate` (ada@example.com, at company domain companyN.example) owned by `rep`."""
    advocate.owner_rep = rep
    advocate.save(update_fields=["owner_rep"])
    return advocate
