"""The integrations' tables (one module per integration, gathered here for Django)."""

from integrations.crm.models import (
    CrmCompany,
    CrmConnection,
    CrmContact,
    CrmDeal,
    CrmOwner,
    DealReferenceRequest,
    RecordError,
    SyncCursor,
    SyncRun,
)
from integrations.slack.models import SlackInstallation

__all__ = [
    "CrmCompany",
    "CrmConnection",
    "CrmContact",
    "CrmDeal",
    "CrmOwner",
    "DealReferenceRequest",
    "RecordError",
    "SlackInstallation",
    "SyncCursor",
    "SyncRun",
]
