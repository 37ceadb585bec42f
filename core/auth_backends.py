"""The sign-in backends: Django's and allauth's, reading the request's user together
with their roles (core.roles.user_with_roles), so that a signed-in page pays one query for
both instead of two."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from core.roles import user_with_roles


def _user_with_roles(backend: DjangoModelBackend, user_id: Any) -> Any:
    user = user_with_roles(user_id)
    if user is None:
        return None
    return user if backend.user_can_authenticate(user) else None


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: Any) -> Any:
        return _user_with_roles(self, user_id)


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: Any) -> Any:
        return _user_with_roles(self, user_id)
