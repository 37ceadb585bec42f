"""Bot tokens at rest (integrations.crypto): the key is ``SLACK_TOKEN_KEY`` when set, else
derived from ``SECRET_KEY``."""

from __future__ import annotations

from django.conf import settings

from integrations.crypto import TokenBox, TokenUnreadable

__all__ = ["TokenUnreadable", "token_decrypt", "token_encrypt"]

_BOX = TokenBox(
    salt=b"vouch-slack-token",
    key=lambda: settings.SLACK_TOKEN_KEY,
    secret_key=lambda: settings.SECRET_KEY,
    what="Slack",
)


def token_encrypt(token: str) -> str:
    return _BOX.encrypt(token)


def token_decrypt(ciphertext: str) -> str:
    return _BOX.decrypt(ciphertext)
