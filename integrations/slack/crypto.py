"""Bot tokens at rest: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``).

The key is ``SLACK_TOKEN_KEY`` when set, else derived from ``SECRET_KEY`` with HKDF, so a
database dump alone does not hand out the workspace's bot token.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class TokenUnreadable(Exception):
    """The stored token was encrypted with another key (SECRET_KEY or SLACK_TOKEN_KEY
    changed): the workspace must be installed again."""


@cache
def _fernet(key: str, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"vouch-slack-token", info=b"fernet"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _box() -> Fernet:
    return _fernet(settings.SLACK_TOKEN_KEY, settings.SECRET_KEY)


def token_encrypt(token: str) -> str:
    return _box().encrypt(token.encode()).decode()


def token_decrypt(ciphertext: str) -> str:
    try:
        return _box().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenUnreadable("The Slack token cannot be read with this site's key.") from None
