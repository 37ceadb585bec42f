"""Vouch settings: driven by environment variables (this package reads as one module).

Without any environment the site runs in its embedded mode (SQLite, Celery tasks
executed in-process, email printed to the console) and refuses to run without
``DEBUG=true`` or a real ``SECRET_KEY``. Every variable is listed in README.md.
"""

from __future__ import annotations

import os
from importlib.metadata import version as package_version
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from config.settings.database import *  # noqa: F403

# Two sections live beside this module (each reads only the environment): the cache and
# Celery, and the outside services. Everything else stays here, in the order it is read.
from config.settings.integrations import *  # noqa: F403
from config.settings.languages import *  # noqa: F403
from config.settings.sso import *  # noqa: F403
from config.settings.sso import (
    VOUCH_SSO_OIDC_SERVER_URL,
    VOUCH_SSO_SAML_IDP_ENTITY_ID,
    VOUCH_SSO_SLUG,
)
from config.settings.tasks import *  # noqa: F403
from core.observability import logging_config, sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # config/settings/ -> the project

DEBUG = env_bool("DEBUG", default=False)
# A fixed key is acceptable only for the embedded development mode (`make run`).
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-only-key" if DEBUG else None)
# Rotation: the previous key(s), comma-separated, still verify what they signed (sessions,
# invitation and unsubscribe links, password resets) while new signatures use SECRET_KEY;
# drop them once those have expired (docs/operations.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Links in emails are built from it: production must say where it lives.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else None).rstrip("/")
PROGRAM_NAME = env_str("PROGRAM_NAME", "Vouch")

INSTALLED_APPS = [
    # Per-language text on challenges, rewards and campaigns (each app's translation.py);
    # before the admin, as the library asks.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "django_htmx",
    "csp",
    "template_partials",
    "django_celery_beat",
    "anymail",
    # django-ninja: the API's OpenAPI docs page and its Swagger UI files (served locally).
    "ninja",
    # The floors, lowest first (docs/architecture.md): an app imports only from below.
    "core",
    "advocates",
    "rewards",
    "challenges",
    "discussions",
    "references",
    "referrals",
    "campaigns",
    "console",
    "integrations",
    "api",
    "demo",
    "bench",
]

MIDDLEWARE = [
    # Each request's id, on its log lines and in its X-Request-ID response header.
    "core.observability.RequestIdMiddleware",
    # /healthz and /readyz from loopback or a private network, before the HTTPS redirect
    # and the allowed-hosts check (core/probes.py).
    "core.probes.ProbeMiddleware",
    # Request counts and latency for /metrics (core.metrics).
    "core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language cookie, else the browser's Accept-Language (core/i18n.py); a
    # signed-in person's saved language wins (core.i18n.UserLanguageMiddleware).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.i18n.UserLanguageMiddleware",
    # Managers and admins without an authenticator app are sent to set one up (README).
    "core.mfa.MFARequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.roles",
            ],
            # {% partialdef %} everywhere without a {% load %} (django-template-partials).
            "builtins": [
                "template_partials.templatetags.partials",
                "core.templatetags.i18n_tags",  # in_sentence (core/i18n.py)
            ],
            # An undefined variable in a template is a bug; tests turn this into an error.
            "string_if_invalid": env_str("TEMPLATE_STRING_IF_INVALID", ""),
        },
    },
]

# --- Database: config/settings/database.py -------------------------------------------
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery: config/settings/tasks.py ---------------------------------------

# --- Email ----------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    # STARTTLS on the submission port, implicit TLS on 465; never both.
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("Set only one of EMAIL_USE_TLS and EMAIL_USE_SSL.")
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# An email provider's HTTP API instead (django-anymail), for every email, campaigns
# included; its tracking webhook (POST /email/events/<provider>/, HTTP basic auth with
# EMAIL_WEBHOOK_SECRET "user:password") turns hard bounces, complaints and the
# provider's own rejections into campaign suppressions (campaigns/views/email_events.py).
EMAIL_PROVIDER = env_str("EMAIL_PROVIDER", "smtp")
EMAIL_PROVIDERS = {
    "ses": "amazon_ses",
    "postmark": "postmark",
    "mailgun": "mailgun",
}
if EMAIL_PROVIDER in EMAIL_PROVIDERS:
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDERS[EMAIL_PROVIDER]}.EmailBackend"
elif EMAIL_PROVIDER != "smtp":
    raise ImproperlyConfigured(
        f"EMAIL_PROVIDER={EMAIL_PROVIDER!r}: use smtp, {', '.join(EMAIL_PROVIDERS)}."
    )
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": os.environ.get("POSTMARK_SERVER_TOKEN", ""),
    "MAILGUN_API_KEY": os.environ.get("MAILGUN_API_KEY", ""),
    "MAILGUN_SENDER_DOMAIN": os.environ.get("MAILGUN_SENDER_DOMAIN", ""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
    # SES: credentials from boto3's chain (instance role, AWS_* variables).
    "AMAZON_SES_CLIENT_PARAMS": {"region_name": os.environ.get("AWS_SES_REGION") or None},
    # "user:password" for the webhook's basic auth; several, comma-separated, to rotate.
    "WEBHOOK_SECRET": env_list("EMAIL_WEBHOOK_SECRET"),
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Vouch <vouch@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Accounts (django-allauth) ---------------------------------------------------------
AUTH_USER_MODEL = "advocates.User"
# Django's and allauth's backends, reading the signed-in user with their roles in one
# query (core/auth_backends.py). Sessions signed in before this change named the
# originals: they sign in again once.
AUTHENTICATION_BACKENDS = [
    "core.auth_backends.ModelBackend",
    "core.auth_backends.AuthenticationBackend",
]
# New passwords get the first; the others still verify older hashes, which Django then
# re-hashes with the first at their owner's next sign-in. Argon2id is memory-hard: a
# check cheap enough for a small server still costs a GPU guesser more than PBKDF2's
# (parameters in core/hashers.py).
PASSWORD_HASHERS = [
    "core.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "advocates.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "advocates.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
# allauth's default rate limits stay on (login failures, password resets, ...).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PROGRAM_NAME}] "
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"  # LinkedIn verifies the address itself
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_ONLY = False

LINKEDIN_CLIENT_ID = os.environ.get("LINKEDIN_CLIENT_ID", "")
LINKEDIN_CLIENT_SECRET = os.environ.get("LINKEDIN_CLIENT_SECRET", "")
# allauth's OpenID Connect and SAML providers with Vouch's additions for the company's
# identity provider (advocates/sso.py); each gets apps below when configured.
SOCIALACCOUNT_PROVIDERS: dict = {
    "openid_connect": {
        "provider_class": "advocates.sso.StaffOIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [],
    },
    "saml": {"provider_class": "advocates.sso.StaffSAMLProvider", "APPS": []},
}
if LINKEDIN_CLIENT_ID:
    if not LINKEDIN_CLIENT_SECRET:
        raise ImproperlyConfigured("LINKEDIN_CLIENT_ID is set: set LINKEDIN_CLIENT_SECRET too.")
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
        {
            "provider_id": "linkedin",
            "name": "LinkedIn",
            "client_id": LINKEDIN_CLIENT_ID,
            "secret": LINKEDIN_CLIENT_SECRET,
            "settings": {
                "server_url": "https://www.linkedin.com/oauth",
                "token_auth_method": "client_secret_post",
            },
        }
    )

# --- Staff single sign-on (SAML 2.0 and/or OpenID Connect) ---------------------------
# Community managers and sales reps may sign in through the company's identity provider
# (advocates/sso.py; README "Staff single sign-on"). Advocates keep invitations, email
# and LinkedIn. Each protocol is on when its first variable is set.
# The VOUCH_SSO_* variables: config/settings/sso.py (imported above); the identity
# providers they turn on are added to SOCIALACCOUNT_PROVIDERS here.
if VOUCH_SSO_SAML_IDP_ENTITY_ID:
    _saml_idp: dict = {"entity_id": VOUCH_SSO_SAML_IDP_ENTITY_ID}
    if os.environ.get("VOUCH_SSO_SAML_IDP_METADATA_URL"):
        _saml_idp["metadata_url"] = os.environ["VOUCH_SSO_SAML_IDP_METADATA_URL"]
    else:
        _saml_idp["sso_url"] = env_str("VOUCH_SSO_SAML_IDP_SSO_URL")
        _saml_idp["x509cert"] = env_str("VOUCH_SSO_SAML_IDP_X509_CERT")
    SOCIALACCOUNT_PROVIDERS["saml"]["APPS"] = [
        {
            "name": "your company account",
            "client_id": VOUCH_SSO_SLUG,
            "settings": {
                "idp": _saml_idp,
                "sp": {"entity_id": os.environ.get("VOUCH_SSO_SAML_SP_ENTITY_ID", "")},
                "attribute_mapping": {
                    "uid": env_list("VOUCH_SSO_SAML_ATTRIBUTE_UID"),
                    "email": env_list(
                        "VOUCH_SSO_SAML_ATTRIBUTE_EMAIL",
                        "email,urn:oid:0.9.2342.19200300.100.1.3,"
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                    ),
                    "first_name": env_list(
                        "VOUCH_SSO_SAML_ATTRIBUTE_FIRST_NAME",
                        "firstName,urn:oid:2.5.4.42,"
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                    ),
                    "last_name": env_list(
                        "VOUCH_SSO_SAML_ATTRIBUTE_LAST_NAME",
                        "lastName,urn:oid:2.5.4.4,"
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                    ),
                },
                "use_nameid_for_email": env_bool("VOUCH_SSO_SAML_NAMEID_IS_EMAIL", default=False),
                "advanced": {
                    "strict": True,
                    # The assertion itself must carry the IdP's signature (a signed
                    # envelope around an unsigned assertion is refused).
                    "want_assertion_signed": True,
                    "reject_idp_initiated_sso": not env_bool(
                        "VOUCH_SSO_SAML_ALLOW_IDP_INITIATED", default=False
                    ),
                },
            },
        }
    ]
if VOUCH_SSO_OIDC_SERVER_URL:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
        {
            "provider_id": VOUCH_SSO_SLUG,
            "name": "your company account",
            "client_id": env_str("VOUCH_SSO_OIDC_CLIENT_ID"),
            "secret": env_str("VOUCH_SSO_OIDC_CLIENT_SECRET"),
            "settings": {
                "server_url": VOUCH_SSO_OIDC_SERVER_URL,
                # Claims (email, names, groups, amr) from the signed ID token alone.
                "fetch_userinfo": False,
                "scope": env_list("VOUCH_SSO_OIDC_SCOPES", "openid,email,profile"),
            },
        }
    )

# --- Outbound webhooks (core.webhooks; README: Webhooks) -------------------------------
# Endpoints are URLs a manager types: Vouch refuses to send to loopback, private,
# link-local (cloud metadata) and other non-public addresses unless this is on, for a
# receiver inside your own network. The embedded mode allows them (receivers on localhost).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
# Delivered and failed deliveries older than this many days leave the log (hourly).
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30)

# --- Program rules --------------------------------------------------------------------
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 14)
WELCOME_POINTS = env_int("WELCOME_POINTS", 100)

# --- Referrals (README: "CRM API") -----------------------------------------------------
# CRM_INBOUND_SECRET verifies POST /api/crm/events (empty disables the API: 503); the
# embedded mode has a known secret so the README's curl example works on `make run`.
# Referral events go out through the console's webhook endpoints (core.webhooks): each
# endpoint has its own signing secret, so no receiver of our events can sign inbound ones.
if os.environ.get("CRM_WEBHOOK_SECRET"):
    raise ImproperlyConfigured(
        "CRM_WEBHOOK_SECRET is replaced: set CRM_INBOUND_SECRET to verify the events the CRM "
        "sends to Vouch, add the CRM's receiver as an endpoint in Console -> Webhooks for "
        "the events Vouch sends, then unset CRM_WEBHOOK_SECRET (README: CRM API)."
    )
_RETIRED_CRM_OUTBOUND = [
    name for name in ("CRM_WEBHOOK_URL", "CRM_OUTBOUND_SECRET") if os.environ.get(name)
]
if _RETIRED_CRM_OUTBOUND:
    raise ImproperlyConfigured(
        f"{' and '.join(_RETIRED_CRM_OUTBOUND)} no longer send referral events: add the "
        "receiver's URL in Console -> Webhooks with the events referral.created and "
        "referral.stage_changed, have it verify the Standard Webhooks signature with the "
        "secret shown there (and skip events whose data.source is 'crm' if it must not "
        "hear its own changes back), then unset these variables (README: CRM API)."
    )
CRM_INBOUND_SECRET = os.environ.get("CRM_INBOUND_SECRET", "dev-crm-secret" if DEBUG else "")
REFERRAL_DAILY_LIMIT = env_int("REFERRAL_DAILY_LIMIT", 10)
# Public landing form: at most this many submissions per IP address per 10 minutes.
REFERRAL_LANDING_MAX_POSTS = env_int("REFERRAL_LANDING_MAX_POSTS", 5)

# --- Zoom, reward fulfilment by Tremendous, Slack, the REST API's rate: integrations.py --

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Uploads (avatars, reward images, challenge evidence, the logo): on this machine's disk
# (MEDIA_STORAGE=file, one web host or a shared disk) or in an S3-compatible bucket
# (MEDIA_STORAGE=s3: AWS S3, MinIO, Cloudflare R2, ...), which several web hosts share.
# Bucket URLs are signed and expire (evidence is not public) unless S3_CUSTOM_DOMAIN
# puts a CDN in front; the page's CSP allows images from the bucket's origin.
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "file")
MEDIA_ORIGINS: list[str] = []
if MEDIA_STORAGE == "file":
    _MEDIA_BACKEND: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    _S3_BUCKET = env_str("S3_BUCKET", None)
    _S3_ENDPOINT = os.environ.get("S3_ENDPOINT_URL", "")  # empty: AWS itself
    _S3_REGION = os.environ.get("S3_REGION", "")
    _S3_DOMAIN = os.environ.get("S3_CUSTOM_DOMAIN", "")
    _MEDIA_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _S3_BUCKET,
            "endpoint_url": _S3_ENDPOINT or None,
            "region_name": _S3_REGION or None,
            # Unset: boto3's own chain (instance role, AWS_* variables, ~/.aws).
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", "media"),
            "custom_domain": _S3_DOMAIN or None,
            "querystring_auth": not _S3_DOMAIN,
            "querystring_expire": env_int("S3_URL_EXPIRE_SECONDS", 3600),
            "file_overwrite": False,
            "default_acl": None,
            "signature_version": "s3v4",
            # S3-compatible servers address buckets by path; AWS by host name.
            "addressing_style": "path" if _S3_ENDPOINT else "virtual",
        },
    }
    if _S3_DOMAIN:
        MEDIA_ORIGINS = [f"https://{_S3_DOMAIN}"]
    elif _S3_ENDPOINT:
        _endpoint = urlsplit(_S3_ENDPOINT)
        MEDIA_ORIGINS = [f"{_endpoint.scheme}://{_endpoint.netloc}"]
    else:
        MEDIA_ORIGINS = [f"https://{_S3_BUCKET}.s3.amazonaws.com"] + (
            [f"https://{_S3_BUCKET}.s3.{_S3_REGION}.amazonaws.com"] if _S3_REGION else []
        )
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE={MEDIA_STORAGE!r}: use file or s3.")
STORAGES = {
    "default": _MEDIA_BACKEND,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "core.staticfiles.StaticFilesStorage"
        )
    },
}
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 5 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security -------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of the web processes append to X-Forwarded-For
# (nginx alone: 1; a cloud load balancer in front of nginx: 2). Every rate limit keys on
# the client address this gives (core.http.client_ip), allauth's included; 0 (no proxy)
# uses the peer address. Too low and all visitors share the proxy's address (one
# visitor's mistakes lock everyone out); too high and a client can pick its own key.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"  # as the session's (the footer's switch posts same-site)
LANGUAGE_COOKIE_HTTPONLY = True  # no script reads it
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# "preload" only allows submitting the domain to browsers' HSTS list; it submits nothing.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Read from the cache (Redis in production), written to the database too: nothing is
# lost when Redis restarts (core/sessions.py).
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: htmx gets the token from <body hx-headers>.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp 4): no inline script anywhere (JS lives in
# static/js/), nothing from other origins. Styles: <style> elements and stylesheets only
# from 'self' (style-src-elem); style="" *attributes* stay allowed (style-src-attr),
# because templates draw data-driven bars with style="width: N%" (progress, NPS, KPI
# bars). An injected attribute cannot load anything (img-src/font-src stay 'self') nor
# read the page, which is what CSS injection through a <style> element could. Browsers
# without CSP3 style-src-elem fall back to style-src, which must then allow them too.
_CSP_FORM_ACTION = ["'self'"]
if LINKEDIN_CLIENT_ID:
    # Chrome checks form-action on the redirect after "Continue with LinkedIn" (a POST).
    _CSP_FORM_ACTION.append("https://www.linkedin.com")
# ... and on the redirect after "Sign in with your company account": the IdP's origin.
for _sso_url in (
    os.environ.get("VOUCH_SSO_SAML_IDP_SSO_URL", "") if VOUCH_SSO_SAML_IDP_ENTITY_ID else "",
    os.environ.get("VOUCH_SSO_SAML_IDP_METADATA_URL", "") if VOUCH_SSO_SAML_IDP_ENTITY_ID else "",
    VOUCH_SSO_OIDC_SERVER_URL,
):
    if _sso_url:
        _parts = urlsplit(_sso_url)
        _CSP_FORM_ACTION.append(f"{_parts.scheme}://{_parts.netloc}")
_CSP_FORM_ACTION.extend(env_list("VOUCH_SSO_FORM_ACTION_ORIGINS"))
_CSP_DIRECTIVES: dict[str, list[str] | str] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "style-src-elem": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "form-action": _CSP_FORM_ACTION,
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
}
if os.environ.get("CSP_REPORT_URI"):
    _CSP_DIRECTIVES["report-uri"] = os.environ["CSP_REPORT_URI"]
# CSP_REPORT_ONLY=true sends the same policy as Content-Security-Policy-Report-Only:
# browsers report violations (console, CSP_REPORT_URI) but block nothing.
if env_bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}

# --- Multi-factor authentication (allauth.mfa) -----------------------------------------
# Everyone may add an authenticator app (TOTP); managers and admins must have one before
# any page but their account pages (core.mfa.MFARequiredMiddleware).
VOUCH_MFA_REQUIRED_FOR_MANAGERS = env_bool("VOUCH_MFA_REQUIRED_FOR_MANAGERS", default=True)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = PROGRAM_NAME
# Accept the previous and next 30 s code too: phones' clocks drift. allauth rate-limits
# code attempts and refuses a code used once already.
MFA_TOTP_TOLERANCE = 1
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# One line per record on stderr with time, level, logger and the request id
# (core.observability); LOG_FORMAT=json for a log collector.
LOGGING = logging_config(level=env_str("LOG_LEVEL", "INFO"), fmt=env_str("LOG_FORMAT", "text"))
# Errors of web requests and Celery tasks to Sentry (or a Sentry-compatible service such
# as GlitchTip), only when a DSN is set; no personal data is sent.
# GET /metrics for Prometheus (core.metrics), off until a token is set; the scraper
# sends "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=f"vouch@{package_version('vouch')}",
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# --- CSV imports ---------------------------------------------------------------------------
# One cap for every web upload (invitations, connections, campaign contacts, prospects,
# prospect events): the whole file is read in the request. The management commands
# stream files of any size.
CSV_UPLOAD_MAX_ROWS = env_int("CSV_UPLOAD_MAX_ROWS", 10_000)
CSV_UPLOAD_MAX_BYTES = env_int("CSV_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
