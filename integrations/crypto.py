"""Integration tokens at rest: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``).

Each integration has its own key setting (``SLACK_TOKEN_KEY``, ``CRM_TOKEN_KEY``); when it
is empty the key is derived from ``SECRET_KEY`` with HKDF under the integration's own
salt, so a database dump alone hands out no token, and one integration's key opens no
other's ciphertext.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class TokenUnreadable(Exception):
    """The stored token was encrypted with another key (SECRET_KEY or the integration's
    key changed): the integration must be connected again."""


@cache
def _fernet(key: str, secret_key: str, salt: bytes) -> Fernet:
    if key:
        return Fernet(key.encode())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"fernet").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class TokenBox:
    """Encrypts and decrypts one integration's tokens; ``key`` and ``secret_key`` are
    read on each use (callables), so a test's settings override applies."""

    def __init__(self, *, salt: bytes, key: object, secret_key: object, what: str) -> None:
        self.salt, self._key, self._secret_key, self.what = salt, key, secret_key, what

    def _box(self) -> Fernet:
        return _fernet(self._key(), self._secret_key(), self.salt)  # type: ignore[operator]

    def encrypt(self, token: str) -> str:
        return self._box().encrypt(token.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._box().decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise TokenUnreadable(
                f"The {self.what} token cannot be read with this site's key."
            ) from None
