"""Staff single sign-on: community managers and sales reps sign in through the company's
identity provider (SAML 2.0 or OpenID Connect), through allauth's own providers.

What Vouch adds to allauth (README "Staff single sign-on"):

- **Only staff.** An IdP sign-in needs a group the settings map to manager or rep
  (``VOUCH_SSO_MANAGER_GROUPS`` / ``VOUCH_SSO_REP_GROUPS``); it never signs in, links or
  creates an advocate. Advocates keep invitations, email and LinkedIn.
- **Linking by email.** The IdP is the company's own directory, set up by the operator,
  so the address it asserts is taken as proven: it signs in the existing staff user of
  that address (or creates one). An address that belongs to an advocate is refused, so
  a misconfigured IdP cannot take over a customer's account.
- **Groups just in time.** At each sign-in the manager and rep groups become what the
  IdP says (services.sso.staff_groups_sync, audited).
- **The IdP's MFA.** When the assertion (SAML AuthnContextClassRef or Entra's
  authnmethodsreferences) or the ID token (``amr``) says a second factor was checked,
  the sign-in counts as two-factor (core.mfa): no TOTP prompt and no forced setup.
- **Replays.** python3-saml checks signature, audience, destination and validity times
  but keeps no memory of assertions: each assertion ID is remembered in the shared
  cache until it expires, and a second use is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from advocates.models import Advocate, User
from core.mfa import IDP_MFA_KEY
from core.roles import Role, public, user_roles

SAML = "saml"
GROUPS_KEY = "vouch_idp_groups"  # the IdP's group values, as read at this sign-in
REPLAY_CACHE_PREFIX = "vouch:saml-assertion:"
REPLAY_FALLBACK_SECONDS = 24 * 3600  # an assertion without NotOnOrAfter (python3-saml requires one)

# Marked here, translated by refuse() in the language of the page.
NO_STAFF_GROUP = gettext_noop(
    "Your company account is not in a group that may use %(program)s. Ask your "
    "administrator to add you to the managers' or the sales reps' group."
)
ADVOCATE_ADDRESS = gettext_noop(
    "This address belongs to a member of the %(program)s community, not to a staff "
    "account. Sign in with your password or LinkedIn instead."
)
NO_EMAIL = gettext_noop(
    "Your identity provider did not send an email address. Ask your administrator."
)
REPLAYED = gettext_noop(
    "This sign-in response was already used. Start again from the sign-in page."
)


def login_url(request: HttpRequest | None) -> str:
    """Where "Sign in with your company account" posts, or "" when no company IdP is set
    up: from the environment (settings) or as a social application in the admin
    (provider SAML with client id ``company``, or OpenID Connect with provider id
    ``company``). SAML first when both are."""
    adapter = get_social_adapter()
    slug = settings.VOUCH_SSO_SLUG
    if adapter.list_apps(request, provider=SAML, client_id=slug):
        url = reverse("saml_login", kwargs={"organization_slug": slug})
    elif adapter.list_apps(request, provider=slug):
        url = reverse("openid_connect_login", kwargs={"provider_id": slug})
    else:
        return ""
    return f"{url}?process=login"


def is_staff_sso(sociallogin: SocialLogin | None) -> bool:
    """Is this a sign-in through the company's IdP (not LinkedIn)?"""
    if sociallogin is None:
        return False
    return sociallogin.account.provider in {SAML, settings.VOUCH_SSO_SLUG}


def refuse(request: HttpRequest, message: str) -> ImmediateHttpResponse:
    response: HttpResponse = render(
        request,
        "advocates/sso_refused.html",
        {"message": gettext(message) % {"program": settings.PROGRAM_NAME}},
        status=403,
    )
    return ImmediateHttpResponse(response)


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    return [str(value) for value in raw]


def asserted_roles(sociallogin: SocialLogin) -> frozenset[Role]:
    """The staff roles the IdP's groups map to at this sign-in."""
    groups = set(_values(sociallogin.account.extra_data.get(GROUPS_KEY)))
    roles = set()
    if groups & set(settings.VOUCH_SSO_MANAGER_GROUPS):
        roles.add(Role.MANAGER)
    if groups & set(settings.VOUCH_SSO_REP_GROUPS):
        roles.add(Role.REP)
    return frozenset(roles)


def _is_advocate_only(user: User) -> bool:
    if not Advocate.objects.filter(user=user).exists():
        return False
    return not (user_roles(user) & {Role.MANAGER, Role.REP})


def staff_login_check(request: HttpRequest, sociallogin: SocialLogin) -> None:
    """Refuse a staff SSO sign-in that must not happen, before anything is saved; link an
    unlinked sign-in to the existing staff user of its email address."""
    if not asserted_roles(sociallogin):
        raise refuse(request, NO_STAFF_GROUP)
    if sociallogin.is_existing:
        user = sociallogin.user
    else:
        email = (sociallogin.user.email or "").strip()
        if not email:
            raise refuse(request, NO_EMAIL)
        user = User.objects.filter(email__iexact=email).first()
    if user is not None and _is_advocate_only(user):
        raise refuse(request, ADVOCATE_ADDRESS)
    if user is not None and not sociallogin.is_existing:
        # Trusted: see the module's docstring ("Linking by email").
        sociallogin.connect(request, user)
    # The IdP vouches for the address it asserts.
    for address in sociallogin.email_addresses:
        address.verified = True


# --- SAML -----------------------------------------------------------------------------


def _not_on_or_after_seconds(auth: Any) -> int:
    expires = auth.get_last_assertion_not_on_or_after()
    if not expires:
        return REPLAY_FALLBACK_SECONDS
    left = int(expires - datetime.now(tz=UTC).timestamp())
    return max(left, 1) + 60  # a minute of clock skew, as python3-saml allows


def saml_assertion_first_use(auth: Any) -> bool:
    """Remember this assertion's ID until it expires; False when it was seen before.

    ``cache.add`` is one atomic SET NX in Redis, so two web processes receiving the
    same assertion at once cannot both win. While Redis is unreachable the cache falls
    back to each process's memory (core.cache): a replay to another process within the
    outage would not be caught; the assertion's short validity still bounds it.
    """
    assertion_id = auth.get_last_assertion_id()
    if not assertion_id:
        return False
    return cache.add(
        f"{REPLAY_CACHE_PREFIX}{auth.get_settings().get_idp_data()['entityId']}:{assertion_id}",
        "1",
        timeout=_not_on_or_after_seconds(auth),
    )


def saml_mfa(auth: Any) -> bool:
    if not settings.VOUCH_SSO_TRUST_IDP_MFA:
        return False
    wanted = set(settings.VOUCH_SSO_SAML_MFA_CONTEXTS)
    said = set(auth.get_last_authn_contexts() or [])
    said |= set(_values(auth.get_attribute(settings.VOUCH_SSO_SAML_MFA_ATTRIBUTE)))
    return bool(wanted & said)


class StaffSAMLProvider(SAMLProvider):
    """allauth's SAML provider, plus the replay check, the groups and the MFA claim."""

    package = "allauth.socialaccount.providers.saml"  # allauth's URLs, views and templates

    def sociallogin_from_response(self, request: HttpRequest, response: Any) -> SocialLogin:
        if not saml_assertion_first_use(response):
            raise refuse(request, REPLAYED)
        login = super().sociallogin_from_response(request, response)
        # Our keys are set last, so an IdP attribute of the same name cannot pose as them.
        login.account.extra_data[GROUPS_KEY] = _values(
            response.get_attribute(settings.VOUCH_SSO_SAML_GROUPS_ATTRIBUTE)
        )
        login.account.extra_data[IDP_MFA_KEY] = saml_mfa(response)
        return login


# --- OpenID Connect -------------------------------------------------------------------


def oidc_mfa(id_token: dict) -> bool:
    if not settings.VOUCH_SSO_TRUST_IDP_MFA:
        return False
    return bool(set(_values(id_token.get("amr"))) & set(settings.VOUCH_SSO_OIDC_MFA_AMR))


class StaffOIDCProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider (LinkedIn's too); for the company's IdP it also
    reads the groups claim and ``amr`` from the ID token."""

    package = "allauth.socialaccount.providers.openid_connect"

    def sociallogin_from_response(self, request: HttpRequest, response: dict) -> SocialLogin:
        login = super().sociallogin_from_response(request, response)
        if self.app.provider_id == settings.VOUCH_SSO_SLUG:
            id_token = response.get("id_token") or {}
            userinfo = response.get("userinfo") or {}
            claim = settings.VOUCH_SSO_OIDC_GROUPS_CLAIM
            login.account.extra_data[GROUPS_KEY] = _values(id_token.get(claim, userinfo.get(claim)))
            login.account.extra_data[IDP_MFA_KEY] = oidc_mfa(id_token)
        return login


class StaffOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """Checks the ID token's signature against the IdP's JWKS even though it came
    straight from the token endpoint over TLS (which OpenID Connect allows skipping):
    it decides who signs in to the console and whether they did MFA."""

    def _decode_id_token(self, app: Any, id_token: str) -> dict:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


@public  # the IdP sends the browser back here; allauth's state check guards it
@login_not_required
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The company IdP's OpenID Connect callback (allauth's, with StaffOIDCAdapter)."""
    try:
        view = OAuth2CallbackView.adapter_view(StaffOIDCAdapter(request, settings.VOUCH_SSO_SLUG))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404("Single sign-on through OpenID Connect is not configured.") from None
