"""Passwords are hashed with Argon2id; older hashes still sign in and are re-hashed."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, identify_hasher
from django.urls import reverse

from config.settings import PASSWORD_HASHERS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hashers(settings) -> None:
    # tests/conftest.py hashes with MD5 for speed; these tests are about the real list.
    settings.PASSWORD_HASHERS = PASSWORD_HASHERS


@pytest.mark.usefixtures("production_hashers")
def test_new_passwords_are_hashed_with_argon2() -> None:
    assert get_hasher("default").algorithm == "argon2"


@pytest.mark.usefixtures("production_hashers")
def test_signing_in_with_a_pbkdf2_hash_rehashes_it_with_argon2(client) -> None:
    advocate = factories.AdvocateFactory(user__email="ada@example.com")
    user = advocate.user
    # A hash made before Argon2: few iterations keep the test fast; the count is stored
    # in the hash, so it verifies as any PBKDF2 hash does.
    pbkdf2 = PBKDF2PasswordHasher()
    user.password = pbkdf2.encode(factories.PASSWORD, pbkdf2.salt(), iterations=1000)
    user.save(update_fields=["password"])

    response = client.post(
        reverse("account_login"), {"login": "ada@example.com", "password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    # With the parameters configured now: the next sign-in does not re-hash it again.
    assert not identify_hasher(user.password).must_update(user.password)
    assert user.check_password(factories.PASSWORD)
