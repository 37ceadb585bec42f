"""A connection's OAuth tokens: encrypted at rest (integrations.crypto, ``CRM_TOKEN_KEY``
or derived from ``SECRET_KEY``), read back as ``base.Tokens``."""

from __future__ import annotations

from django.conf import settings

from integrations.crm.base import Tokens
from integrations.crm.models import CrmConnection
from integrations.crypto import TokenBox

BOX = TokenBox(
    salt=b"vouch-crm-token",
    key=lambda: settings.CRM_TOKEN_KEY,
    secret_key=lambda: settings.SECRET_KEY,
    what="CRM",
)


def tokens_of(connection: CrmConnection) -> Tokens:
    """The connection's tokens in clear (raises TokenUnreadable after a key change)."""
    return Tokens(
        access_token=BOX.decrypt(connection.access_token_encrypted),
        refresh_token=(
            BOX.decrypt(connection.refresh_token_encrypted)
            if connection.refresh_token_encrypted
            else ""
        ),
        instance_url=connection.instance_url,
        expires_at=connection.token_expires_at,
        account_id=connection.account_id,
        account_name=connection.account_name,
    )


def tokens_fields(tokens: Tokens, *, keep_refresh: str = "") -> dict[str, object]:
    """The connection's columns for ``tokens``. A refresh answer without a refresh token
    (Salesforce's) keeps the one we had (``keep_refresh``, ciphertext)."""
    fields: dict[str, object] = {
        "access_token_encrypted": BOX.encrypt(tokens.access_token),
        "refresh_token_encrypted": (
            BOX.encrypt(tokens.refresh_token) if tokens.refresh_token else keep_refresh
        ),
        "token_expires_at": tokens.expires_at,
    }
    if tokens.instance_url:
        fields["instance_url"] = tokens.instance_url
    return fields
