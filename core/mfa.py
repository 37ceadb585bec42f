"""Multi-factor authentication: required for community managers and admins.

allauth.mfa does the work (TOTP authenticator apps, recovery codes, the code step at
sign-in for anyone who has an authenticator). This module adds the rule that a manager
or an admin (staff) must have one: without it, every page but their account pages
sends them to the authenticator setup (``VOUCH_MFA_REQUIRED_FOR_MANAGERS``, default on).

Whether the signed-in user has an authenticator is remembered in the session when they
sign in or add/remove one, so the check costs no query per request. A user who has one
passed its code at sign-in: allauth asks for it before it logs anyone in.

Staff single sign-on (advocates/sso.py): when the company's identity provider says it
checked a second factor (``IDP_MFA_KEY`` set on the social login), that sign-in counts
as two-factor: allauth's code step is skipped (``AuthenticateStage``) and the session is
marked as having passed, so no setup is forced. Without that claim the rule above
applies to an SSO sign-in as to a password one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.signals import user_logged_in as allauth_user_logged_in
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django_htmx.http import HttpResponseClientRedirect

from core.roles import Role, has_role

# The pk of the session's user, when they have an authenticator or their IdP did MFA.
SESSION_KEY = "vouch_mfa_user"
# Set (True/False) by the staff SSO providers on the social login's extra data.
IDP_MFA_KEY = "vouch_idp_mfa"
# Marked here, translated when shown (gettext at call time).
MESSAGE = gettext_noop(
    "Your role can change the program and see every advocate, so it needs two-factor "
    "authentication: set up an authenticator app to continue."
)
# Views a manager without an authenticator can still reach: their account pages
# (setting up the authenticator needs them) and sign-out.
EXEMPT_MODULE_PREFIXES = ("allauth.",)
EXEMPT_URL_NAMES = {"admin:logout", "healthz", "readyz"}


def mfa_required(user: Any) -> bool:
    """Does this user's role demand an authenticator (managers and admins)?"""
    if not settings.VOUCH_MFA_REQUIRED_FOR_MANAGERS or not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or has_role(user, Role.MANAGER))


def has_totp(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _remember(request: HttpRequest | None, user: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    if has_totp(user):
        session[SESSION_KEY] = user.pk
    else:
        session.pop(SESSION_KEY, None)


def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _remember(request, user)


def idp_did_mfa(sociallogin: Any) -> bool:
    """Did the identity provider of this social login say it checked a second factor?"""
    account = getattr(sociallogin, "account", None)
    return account is not None and (account.extra_data or {}).get(IDP_MFA_KEY) is True


def _on_allauth_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # Sent after Django's user_logged_in (_on_login above), with the social login if any.
    if idp_did_mfa(kwargs.get("sociallogin")):
        request.session[SESSION_KEY] = user.pk


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's "enter your code" step, skipped when the IdP already did MFA."""

    def _should_handle(self, request: HttpRequest) -> bool:
        if idp_did_mfa((self.login.signal_kwargs or {}).get("sociallogin")):
            return False
        return super()._should_handle(request)


def _on_authenticator_change(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    _remember(request, user)


def connect_signals() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="vouch-mfa-login")
    allauth_user_logged_in.connect(_on_allauth_login, dispatch_uid="vouch-mfa-idp")
    authenticator_added.connect(_on_authenticator_change, dispatch_uid="vouch-mfa-added")
    authenticator_removed.connect(_on_authenticator_change, dispatch_uid="vouch-mfa-removed")


class MFARequiredMiddleware:
    """Send a manager or admin without an authenticator app to set one up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or request.session.get(SESSION_KEY) == user.pk:
            return None
        if getattr(view_func, "__module__", "").startswith(EXEMPT_MODULE_PREFIXES):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_URL_NAMES:
            return None
        if getattr(view_func, "vouch_public", False) or not mfa_required(user):
            return None
        if has_totp(user):  # added before this session remembered it
            request.session[SESSION_KEY] = user.pk
            return None
        messages.warning(request, gettext(MESSAGE))
        setup = reverse("mfa_activate_totp")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(setup)
        return HttpResponseRedirect(setup)
