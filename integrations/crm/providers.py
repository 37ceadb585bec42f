"""The CRMs Vouch connects to, by ``CrmConnection.provider``."""

from __future__ import annotations

from django.conf import settings

from integrations.crm import hubspot, salesforce
from integrations.crm.base import Provider as ProviderProtocol
from integrations.crm.models import Provider

PROVIDERS: dict[str, ProviderProtocol] = {
    Provider.SALESFORCE.value: salesforce.provider,
    Provider.HUBSPOT.value: hubspot.provider,
}


def provider_for(name: str) -> ProviderProtocol:
    return PROVIDERS[name]


def configured(name: str) -> bool:
    """Whether the site has the CRM's app credentials (config/settings/integrations.py)."""
    if name == Provider.SALESFORCE:
        return bool(settings.SALESFORCE_CLIENT_ID)
    if name == Provider.HUBSPOT:
        return bool(settings.HUBSPOT_CLIENT_ID)
    return False


def jwt_configured() -> bool:
    return bool(settings.SALESFORCE_JWT_USERNAME and settings.SALESFORCE_CLIENT_ID)
