"""Password hashing: Argon2id sized for sign-in on the small host Vouch is meant for."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher


class Argon2PasswordHasher(DjangoArgon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum: 19 MiB, two passes, one lane.

    Django's defaults (100 MiB, two passes, eight lanes) suit a host with cores to spare;
    a self-hosted portal usually shares two, where every sign-in would take both of them
    and 100 MiB. The setting is the one OWASP's Password Storage Cheat Sheet names first
    for Argon2id. The parameters are stored in each hash, so changing them here re-hashes
    every password at its owner's next sign-in.
    """

    time_cost = 2
    memory_cost = 19_456  # KiB
    parallelism = 1
