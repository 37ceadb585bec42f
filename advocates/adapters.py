"""allauth adapters: nobody signs up on their own; joining is by invitation only."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.http import HttpRequest

from advocates import services, sso
from advocates.services.sso import staff_groups_sync
from core.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_stages(self) -> list[str]:
        # allauth's code step, skipped for a sign-in whose IdP did MFA (core.mfa).
        return [
            "core.mfa.AuthenticateStage"
            if stage == "allauth.mfa.stages.AuthenticateStage"
            else stage
            for stage in super().get_login_stages()
        ]

    def get_client_ip(self, request: HttpRequest) -> str:
        # The address our own limiters use, so one setting (TRUSTED_PROXY_COUNT) makes
        # allauth's login and password-reset limits per visitor behind a proxy too.
        return client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """LinkedIn may create an account only to accept the invitation held in the session;
    the company's identity provider only staff accounts (advocates.sso)."""

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        if not sso.is_staff_sso(sociallogin):
            return
        sso.staff_login_check(request, sociallogin)  # refuses, or links by email
        if sociallogin.is_existing:
            staff_groups_sync(
                user=sociallogin.user,
                roles=sso.asserted_roles(sociallogin),
                provider=sociallogin.account.provider,
            )

    def _invitation(self, request: HttpRequest):
        token = request.session.get(services.SESSION_INVITATION_TOKEN)
        if not token:
            return None
        try:
            return services.invitation_from_token(token)
        except services.InvitationError:
            return None

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        if sso.is_staff_sso(sociallogin):
            return True  # pre_social_login refused anyone who may not have an account
        return self._invitation(request) is not None

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict):
        user = super().populate_user(request, sociallogin, data)
        if sso.is_staff_sso(sociallogin):
            return user
        invitation = self._invitation(request)
        if invitation is not None:
            # The link proved the invited address; the account is for that address.
            user.email = invitation.email
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None):
        user = super().save_user(request, sociallogin, form)
        if sso.is_staff_sso(sociallogin):
            staff_groups_sync(
                user=user,
                roles=sso.asserted_roles(sociallogin),
                provider=sociallogin.account.provider,
            )
            return user
        token = request.session.pop(services.SESSION_INVITATION_TOKEN, None)
        if token:
            services.invitation_accept(token=token, user=user)
        return user
