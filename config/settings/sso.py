"""Staff single sign-on's settings (SAML 2.0 and/or OpenID Connect; advocates/sso.py).

Read from the environment only; ``config/settings/__init__.py`` imports every name and
adds the identity providers they turn on to ``SOCIALACCOUNT_PROVIDERS``.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_list, env_str

VOUCH_SSO_SLUG = "company"  # /accounts/saml/company/... and /accounts/oidc/company/...
VOUCH_SSO_MANAGER_GROUPS = env_list("VOUCH_SSO_MANAGER_GROUPS")
VOUCH_SSO_REP_GROUPS = env_list("VOUCH_SSO_REP_GROUPS")
# The IdP's word that it checked a second factor stands in for our TOTP (core/mfa.py).
VOUCH_SSO_TRUST_IDP_MFA = env_bool("VOUCH_SSO_TRUST_IDP_MFA", default=True)
VOUCH_SSO_SAML_IDP_ENTITY_ID = os.environ.get("VOUCH_SSO_SAML_IDP_ENTITY_ID", "")
VOUCH_SSO_SAML_GROUPS_ATTRIBUTE = env_str("VOUCH_SSO_SAML_GROUPS_ATTRIBUTE", "groups")
VOUCH_SSO_SAML_MFA_CONTEXTS = env_list(
    "VOUCH_SSO_SAML_MFA_CONTEXTS",
    "https://refeds.org/profile/mfa,"
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor,"
    "http://schemas.microsoft.com/claims/multipleauthn",
)
# Entra ID says "MFA happened" in this attribute, not in the AuthnContextClassRef.
VOUCH_SSO_SAML_MFA_ATTRIBUTE = env_str(
    "VOUCH_SSO_SAML_MFA_ATTRIBUTE", "http://schemas.microsoft.com/claims/authnmethodsreferences"
)
VOUCH_SSO_OIDC_SERVER_URL = os.environ.get("VOUCH_SSO_OIDC_SERVER_URL", "")
VOUCH_SSO_OIDC_GROUPS_CLAIM = env_str("VOUCH_SSO_OIDC_GROUPS_CLAIM", "groups")
VOUCH_SSO_OIDC_MFA_AMR = env_list("VOUCH_SSO_OIDC_MFA_AMR", "mfa,otp,hwk")
if (VOUCH_SSO_SAML_IDP_ENTITY_ID or VOUCH_SSO_OIDC_SERVER_URL) and not (
    VOUCH_SSO_MANAGER_GROUPS or VOUCH_SSO_REP_GROUPS
):
    raise ImproperlyConfigured(
        "Staff SSO is on: set VOUCH_SSO_MANAGER_GROUPS and/or VOUCH_SSO_REP_GROUPS "
        "(the IdP group values that make someone a manager or a rep)."
    )
