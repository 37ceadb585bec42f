"""The one settings module refuses to start in production without what it needs."""

from __future__ import annotations

import subprocess

import pytest

from tests.settings_process import settings_process

LOAD = "from django.conf import settings; print(settings.SITE_URL)"


def _load(**env: str) -> subprocess.CompletedProcess:
    return settings_process(LOAD, **env)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"SITE_URL": "https://vouch.example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "SITE_URL"),
    ],
)
def test_production_refuses_to_start_without(env: dict[str, str], missing: str) -> None:
    result = _load(DEBUG="false", **env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_debug_mode_has_embedded_defaults() -> None:
    result = _load(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8000"


def test_a_bad_boolean_is_an_error_not_a_guess() -> None:
    result = _load(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "SITE_URL": "https://vouch.example.com"}


def test_the_single_crm_secret_is_refused_with_what_to_do_instead() -> None:
    result = _load(**PRODUCTION, CRM_WEBHOOK_SECRET="shared")
    assert result.returncode != 0
    assert "set CRM_INBOUND_SECRET" in result.stderr
    assert "Console -> Webhooks" in result.stderr


@pytest.mark.parametrize(
    "retired",
    [
        {"CRM_WEBHOOK_URL": "https://crm.example/hook"},
        {"CRM_OUTBOUND_SECRET": "out-secret"},
    ],
)
def test_the_retired_outbound_crm_settings_stop_start_up_with_what_to_do(retired) -> None:
    # Left set, they would look like referral events still go out; they do not.
    result = _load(**PRODUCTION, **retired)
    assert result.returncode != 0
    assert "Console -> Webhooks" in result.stderr
    assert "referral.stage_changed" in result.stderr
    assert _load(**PRODUCTION, CRM_INBOUND_SECRET="in-secret").returncode == 0


def test_behind_pgbouncer_no_cursor_outlives_its_transaction() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS', False))"
    )
    url = "postgres://u@pgbouncer:6432/vouch"
    for flag, expected in (("true", "True"), ("false", "False")):
        result = settings_process(code, DEBUG="true", DB_PGBOUNCER=flag, DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


def test_statements_are_prepared_on_postgresql_but_not_behind_pgbouncer() -> None:
    """A statement prepared on one server connection is unknown on the next, which
    PgBouncer's transaction pooling may hand the next transaction."""
    code = (
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
        "print(s.DATABASES['default']['ENGINE'], o.get('server_side_binding'), "
        "o.get('prepare_threshold'))"
    )
    url = "postgres://u@db:5432/vouch"
    for flag, expected in (
        ("false", "core.db.postgresql True 5"),
        ("true", "core.db.postgresql None None"),
    ):
        result = settings_process(code, DEBUG="true", DB_PGBOUNCER=flag, DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


SIGN = "from django.core import signing; print(signing.dumps({'i': 1}, salt='vouch.invitation'))"


def _verify(token: str, **env: str):
    code = (
        f"from django.core import signing; print(signing.loads({token!r}, salt='vouch.invitation'))"
    )
    return settings_process(code, **PRODUCTION | env)


def test_links_signed_before_a_key_rotation_work_while_the_old_key_is_a_fallback() -> None:
    old, new = "o" * 50, "n" * 50
    token = settings_process(SIGN, **PRODUCTION | {"SECRET_KEY": old}).stdout.strip()
    assert token
    kept = _verify(token, SECRET_KEY=new, SECRET_KEY_FALLBACKS=f"{'x' * 50},{old}")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip() == "{'i': 1}"
    dropped = _verify(token, SECRET_KEY=new)
    assert dropped.returncode != 0
    assert "BadSignature" in dropped.stderr
