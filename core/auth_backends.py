"""The sign-in backends: Django's and allauth's, reading the request's user together
with their roles (core.roles.with_roles), so that a signed-in page pays one query for
both instead of two."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from core.roles import with_roles


def _user_with_roles(backend: DjangoModelBackend, user_id: Any) -> Any:
    user_model = get_user_model()
    try:
        user = with_roles(user_model._default_manager.all()).get(pk=user_id)
    except user_model.DoesNotExist:
        return None
    return user if backend.user_can_authenticate(user) else None


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: Any) -> Any:
        return _user_with_roles(self, user_id)


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: Any) -> Any:
        return _user_with_roles(self, user_id)
