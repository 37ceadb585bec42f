"""Every model registered in Django admin opens (list and add pages) for a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry
)
# Rows made only by services (the ledger, redemptions, referrals): admin may not add them.
SERVICE_MADE = {
    ("rewards", "ledgerentry"),
    ("rewards", "redemption"),
    ("rewards", "providerorder"),  # rewards.services.fulfilment
    ("rewards", "providerbalance"),  # fetched by the beat task
    ("referrals", "referral"),
    ("referrals", "importjob"),  # made by the console upload, moved by its task
    ("core", "auditentry"),  # written by core.audit only, never edited
    ("core", "webhookendpoint"),  # the console's webhook pages (core.webhooks)
    ("core", "webhookdelivery"),
    ("api", "apikey"),  # the console's API keys page (api.services), audited there
    ("campaigns", "segment"),
    ("campaigns", "campaign"),
    ("campaigns", "campaignmessage"),
    ("campaigns", "suppression"),
    ("integrations", "slackinstallation"),  # Slack's OAuth install (console → Slack)
    ("integrations", "crmconnection"),  # the CRM OAuth connect (console → CRM)
    ("integrations", "syncrun"),  # written by the sync (integrations.crm.sync)
}


@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_admin_list_and_add_pages_open(admin_client, app_label: str, model_name: str) -> None:
    changelist = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == 200
    add = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert add.status_code == (403 if (app_label, model_name) in SERVICE_MADE else 200)
