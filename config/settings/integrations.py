"""Settings: the outside services: Zoom, Tremendous, Slack, the REST API's rate.

Read from the environment only; ``config/settings/__init__.py`` imports every name.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_all_or_none, env_int, env_str

# --- Zoom -----------------------------------------------------------------------------
# Zoom (references/zoom.py): a Server-to-Server OAuth app creates the video link of a
# reference call, hosted by ZOOM_HOST_USER (an account-level app has no "me"). All four
# or none; none: advocates enter the link themselves.
_ZOOM = env_all_or_none("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_HOST_USER")
ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, ZOOM_HOST_USER = _ZOOM.values()

# --- Reward fulfilment by a provider (rewards.fulfilment) -------------------------------
# With TREMENDOUS_API_KEY set, approving a redemption of a reward marked "fulfilled by
# Tremendous" orders it there (gift cards, charity donations, prepaid cards, sent by
# Tremendous's email); without it every reward is fulfilled by hand, as before.
TREMENDOUS_API_KEY = os.environ.get("TREMENDOUS_API_KEY", "")
TREMENDOUS_ENVIRONMENT = env_str("TREMENDOUS_ENVIRONMENT", "sandbox")
TREMENDOUS_BASE_URLS = {
    "sandbox": "https://testflight.tremendous.com/api/v2",
    # The official SDKs' production host (tremendous-python configuration.py, node
    # environments.ts); www.tremendous.com/api/v2 is the older address of the same API.
    "production": "https://api.tremendous.com/api/v2",
}
if TREMENDOUS_ENVIRONMENT not in TREMENDOUS_BASE_URLS:
    raise ImproperlyConfigured(
        f"TREMENDOUS_ENVIRONMENT={TREMENDOUS_ENVIRONMENT!r} is not sandbox or production."
    )
# Which funding source pays: "balance" (the prepaid Tremendous balance) or a source id.
TREMENDOUS_FUNDING_SOURCE = env_str("TREMENDOUS_FUNDING_SOURCE", "balance")
# Optional default campaign (products, message, look) for rewards that name none.
TREMENDOUS_CAMPAIGN_ID = os.environ.get("TREMENDOUS_CAMPAIGN_ID", "")
# The webhook's private key (Tremendous dashboard, Developers > Webhooks): events are
# refused (401) without a valid Tremendous-Webhook-Signature made with it.
TREMENDOUS_WEBHOOK_SECRET = os.environ.get("TREMENDOUS_WEBHOOK_SECRET", "")
# The console warns when the funding balance is under this many whole units (USD).
TREMENDOUS_BALANCE_WARNING = env_int("TREMENDOUS_BALANCE_WARNING", 100)
TREMENDOUS_TIMEOUT_SECONDS = env_int("TREMENDOUS_TIMEOUT_SECONDS", 20)

# --- Slack (integrations.slack; docs/operations.md, deploy/slack-app-manifest.yml) -------
# The Slack app's credentials (api.slack.com/apps → Basic Information). Without all three
# the console's Slack page explains what to set and Slack's requests are refused (503).
SLACK_CLIENT_ID = os.environ.get("SLACK_CLIENT_ID", "")
SLACK_CLIENT_SECRET = os.environ.get("SLACK_CLIENT_SECRET", "")
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
# The Fernet key that encrypts bot tokens at rest (`python -c "from cryptography.fernet
# import Fernet; print(Fernet.generate_key().decode())"`); empty: derived from SECRET_KEY
# (rotating SECRET_KEY then means reinstalling Slack).
SLACK_TOKEN_KEY = os.environ.get("SLACK_TOKEN_KEY", "")
# Slack's Web API; the tests point it at a loopback server replaying recorded answers.
SLACK_API_URL = env_str("SLACK_API_URL", "https://slack.com/api/")
# The REST API (api/): requests a minute per API key, counted in the shared cache.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600)
if API_RATE_LIMIT < 1:
    raise ImproperlyConfigured(
        f"API_RATE_LIMIT={API_RATE_LIMIT} must be at least 1 request a minute."
    )

# --- CRM connectors (integrations.crm; docs/crm.md) ---------------------------------
# Each CRM's connected app: both values or neither. Without them the console's CRM page
# says what to set. The tokens a connection gets are encrypted at rest (CRM_TOKEN_KEY,
# else derived from SECRET_KEY) and refreshed by the sync.
_SALESFORCE = env_all_or_none("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET")
SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET = _SALESFORCE.values()
# https://login.salesforce.com, https://test.salesforce.com (sandboxes) or a My Domain.
SALESFORCE_LOGIN_URL = env_str("SALESFORCE_LOGIN_URL", "https://login.salesforce.com")
SALESFORCE_API_VERSION = env_str("SALESFORCE_API_VERSION", "62.0")
# The JWT bearer flow instead of a person's OAuth consent: the integration user's
# username and the PEM private key whose certificate is on the connected app.
_SALESFORCE_JWT = env_all_or_none("SALESFORCE_JWT_USERNAME", "SALESFORCE_JWT_PRIVATE_KEY_FILE")
SALESFORCE_JWT_USERNAME, SALESFORCE_JWT_PRIVATE_KEY_FILE = _SALESFORCE_JWT.values()
_HUBSPOT = env_all_or_none("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET")
HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET = _HUBSPOT.values()
HUBSPOT_API_URL = env_str("HUBSPOT_API_URL", "https://api.hubapi.com")
CRM_TOKEN_KEY = os.environ.get("CRM_TOKEN_KEY", "")
CRM_TIMEOUT_SECONDS = env_int("CRM_TIMEOUT_SECONDS", 30)
