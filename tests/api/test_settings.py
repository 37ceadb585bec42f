"""API_RATE_LIMIT: a number of requests a minute, at least one."""

from __future__ import annotations

from tests.settings_process import settings_process

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "SITE_URL": "https://vouch.example.com"}
LOAD = "from django.conf import settings; print(settings.API_RATE_LIMIT)"


def test_the_rate_limit_defaults_to_600_and_can_be_set() -> None:
    assert settings_process(LOAD, **PRODUCTION).stdout.strip() == "600"
    assert settings_process(LOAD, **PRODUCTION, API_RATE_LIMIT="60").stdout.strip() == "60"


def test_a_rate_limit_below_one_or_not_a_number_is_refused() -> None:
    zero = settings_process(LOAD, **PRODUCTION, API_RATE_LIMIT="0")
    assert zero.returncode != 0
    assert "API_RATE_LIMIT=0 must be at least 1" in zero.stderr
    words = settings_process(LOAD, **PRODUCTION, API_RATE_LIMIT="lots")
    assert words.returncode != 0
    assert "API_RATE_LIMIT='lots' is not a whole number" in words.stderr
