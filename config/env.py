"""Typed readers of environment variables for the settings: a bad value stops start-up
with a message naming the variable, rather than becoming a guess."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        hint = " (or DEBUG=true for local development)" if name == "SECRET_KEY" else ""
        raise ImproperlyConfigured(f"Set the {name} environment variable{hint}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_all_or_none(*names: str) -> dict[str, str]:
    """Variables that only work together (an API's credentials): every one set, or none.

    Half a configuration stops start-up naming what is missing, rather than failing on
    the first call in production hours later."""
    values = {name: os.environ.get(name, "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing and len(missing) < len(names):
        given = ", ".join(name for name in names if name not in missing)
        raise ImproperlyConfigured(
            f"{given} {'is' if len(names) - len(missing) == 1 else 'are'} set: set "
            f"{', '.join(missing)} too, or unset all of {', '.join(names)}."
        )
    return values
