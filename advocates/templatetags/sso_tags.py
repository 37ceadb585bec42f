"""The sign-in page's "Sign in with your company account" (staff single sign-on)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from advocates import sso

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_sso_login_url(context: template.Context) -> str:
    return sso.login_url(context.get("request"))


@register.filter
def is_staff_sso(provider: Any) -> bool:
    app = getattr(provider, "app", None)
    if app is None:
        return False
    return provider.id == sso.SAML or app.provider_id == settings.VOUCH_SSO_SLUG
