"""The sign-in page's "Sign in with your company account" (staff single sign-on)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse

from advocates import sso

register = template.Library()


@register.simple_tag
def staff_sso_login_url() -> str:
    """Where the staff button posts: the SAML login when configured, else the OIDC one."""
    on = sso.enabled()
    if on["saml"]:
        url = reverse("saml_login", kwargs={"organization_slug": settings.VOUCH_SSO_SLUG})
    elif on["oidc"]:
        url = reverse("openid_connect_login", kwargs={"provider_id": settings.VOUCH_SSO_SLUG})
    else:
        return ""
    return f"{url}?process=login"


@register.filter
def is_staff_sso(provider: Any) -> bool:
    app = getattr(provider, "app", None)
    if app is None:
        return False
    return provider.id == sso.SAML or app.provider_id == settings.VOUCH_SSO_SLUG
