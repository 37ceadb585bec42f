"""Hardening: security headers, the Content-Security-Policy, cookies, `check --deploy`,
and a scan that keeps inline script out of every template (the CSP would block it)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.test import Client
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


PAGES = [
    # (client fixture, url name, htmx)
    ("client", "account_login", False),
    ("advocate_client", "advocates:hub", False),
    ("manager_client", "challenges:manage", False),
    ("manager_client", "core:audit", True),
    ("rep_client", "advocates:directory", True),
]


@pytest.mark.parametrize(("who", "name", "htmx"), PAGES)
def test_pages_send_the_security_headers(request, who, name, htmx) -> None:
    client: Client = request.getfixturevalue(who)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(reverse(name), secure=True, **headers)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src-elem"] == ["'self'"]  # no injected <style>
    assert csp["style-src-attr"] == ["'unsafe-inline'"]  # data-driven bar widths only
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]


def test_session_and_csrf_cookies_are_secure_httponly_and_same_site(client, advocate) -> None:
    page = client.get(reverse("account_login"), secure=True)
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    response = client.post(
        reverse("account_login"),
        {"login": advocate.user.email, "password": factories.PASSWORD},
        secure=True,
    )
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    for cookie in (session, csrf):
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def _settings_in_subprocess(*args: str, **env: str) -> subprocess.CompletedProcess:
    # A production process: none of the test run's own switches (pytest-playwright sets
    # DJANGO_ALLOW_ASYNC_UNSAFE in the process that runs the browser tests).
    skipped = ("CSP_", "DEBUG", "SECURE_", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    production = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "vouch.example.com",
        "SITE_URL": "https://vouch.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Production has a broker and workers (vouch.E001); nothing here connects to it.
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    return subprocess.run(
        [sys.executable, *args],
        env=base | production | env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_report_only_mode_sends_the_same_policy_without_enforcing_it() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(hasattr(s, 'CONTENT_SECURITY_POLICY'), "
        "s.CONTENT_SECURITY_POLICY_REPORT_ONLY['DIRECTIVES']['script-src'])"
    )
    result = _settings_in_subprocess("-c", code, CSP_REPORT_ONLY="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False [\"'self'\"]"


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _settings_in_subprocess("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- No inline script in any template ----------------------------------------------------

# <script> without src (JSON data blocks are not executed, so they are allowed).
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=[\"']application/(ld\+)?json)[^>]*>", re.I
)
# onclick=, onchange=, onsubmit=... and htmx's hx-on (evaluated code), javascript: URLs.
HANDLER = re.compile(r"""<[^>]*?\s(on[a-z]+|hx-on[:\-]?[\w:\-]*)\s*=""", re.I | re.S)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _project_templates() -> list[Path]:
    """Every template this project owns (not third-party packages')."""
    roots = [Path(d) for d in engines["django"].engine.dirs]
    roots += [
        Path(settings.BASE_DIR) / app / "templates"
        for app in ("advocates", "challenges", "rewards", "references", "referrals", "campaigns")
    ]
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*.html"))


def _inline_code(text: str) -> list[str]:
    found = [m.group(0) for m in INLINE_SCRIPT.finditer(text)]
    found += [m.group(1) + "=" for m in HANDLER.finditer(text)]
    found += [m.group(0) for m in JS_URL.finditer(text)]
    return found


def test_no_template_has_inline_script_or_event_handler_attributes() -> None:
    templates = _project_templates()
    assert len(templates) > 50  # the scan really looked at the templates
    offenders = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in templates
        if (found := _inline_code(path.read_text(encoding="utf-8")))
    }
    assert not offenders, (
        "The Content-Security-Policy blocks inline script: move it to static/js/*.js and "
        f"hook it to data-* attributes (see static/js/vouch.js). Found: {offenders}"
    )


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="module">import x from "y"</script>',
        '<button onclick="go()">',
        '<input type="text"\n  onchange="save()">',
        '<div hx-on:click="x()">',
        '<a href="javascript:void(0)">',
    ],
)
def test_the_scan_catches_inline_code(snippet: str) -> None:
    assert _inline_code(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/vouch.js" defer></script>',
        '<script id="data" type="application/json">{"a": 1}</script>',
        "<button data-print>Print</button>",
        '<p class="online">one</p>',
        '<input name="on_call">',
    ],
)
def test_the_scan_allows_external_script_and_data(snippet: str) -> None:
    assert not _inline_code(snippet)
