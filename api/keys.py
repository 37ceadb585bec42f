"""What an API key looks like: ``vch_`` and 43 URL-safe characters (32 random bytes)."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "vch_"
# Characters of the key shown in the console to tell keys apart ("vch_" and 8 more):
# 48 bits, too few to help a guess, enough that two keys of one program rarely share it.
VISIBLE_CHARS = len(KEY_PREFIX) + 8


def token_new() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(token: str) -> str:
    """SHA-256 of the key, hex. Not a slow password hash (Argon2) on purpose: the key is
    32 random bytes from ``secrets``, not something a person chose, so no dictionary or
    brute force reaches it and a fast hash protects it as well as a slow one would, while
    each API request finds its key by an indexed equality on the hash instead of paying
    tens of milliseconds of Argon2."""
    return hashlib.sha256(token.encode()).hexdigest()
