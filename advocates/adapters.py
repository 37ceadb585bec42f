"""allauth adapters: nobody signs up on their own; joining is by invitation only."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.http import HttpRequest

from advocates import services
from core.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # The address our own limiters use, so one setting (TRUSTED_PROXY_COUNT) makes
        # allauth's login and password-reset limits per visitor behind a proxy too.
        return client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """LinkedIn may create an account only to accept the invitation held in the session."""

    def _invitation(self, request: HttpRequest):
        token = request.session.get(services.SESSION_INVITATION_TOKEN)
        if not token:
            return None
        try:
            return services.invitation_from_token(token)
        except services.InvitationError:
            return None

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return self._invitation(request) is not None

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict):
        user = super().populate_user(request, sociallogin, data)
        invitation = self._invitation(request)
        if invitation is not None:
            # The link proved the invited address; the account is for that address.
            user.email = invitation.email
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None):
        user = super().save_user(request, sociallogin, form)
        token = request.session.pop(services.SESSION_INVITATION_TOKEN, None)
        if token:
            services.invitation_accept(token=token, user=user)
        return user
