"""Timezones: the list people pick from, and local wall times turned into UTC.

A wall time ("Sunday 25 October, 02:30") names no instant when clocks jump: in a
spring-forward gap it never happens, in a fall-back overlap it happens twice. Vouch
refuses both with a message that says which, rather than guessing an hour (the rule
is documented in docs/references.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import dateformat
from django.utils.translation import gettext as _


class WallTimeError(ValueError):
    """A local time that names no single instant; the message is shown as it is."""


@cache
def zone_names() -> tuple[str, ...]:
    """IANA zone names people pick from (Area/City, plus UTC), sorted."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    }
    return tuple(sorted(names | {"UTC"}))


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in zone_names()]


def zone_valid(name: str) -> bool:
    return name in zone_names()


def zone_or_default(name: str | None) -> str:
    """``name`` if it is a zone people can pick, else the program's TIME_ZONE."""
    return name if name and zone_valid(name) else settings.TIME_ZONE


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone_or_default(name))
    except ZoneInfoNotFoundError:  # the program's own TIME_ZONE is checked by Django
        return ZoneInfo("UTC")


def wall_to_utc(wall: datetime, zone_name: str) -> datetime:
    """The UTC instant of a naive local ``wall`` time in ``zone_name``.

    Raises WallTimeError for a time skipped by a clock change (it does not exist) or
    repeated by one (it is ambiguous).
    """
    tz = zone(zone_name)
    naive = wall.replace(tzinfo=None, second=0, microsecond=0)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    # Day and month names in the reader's language ("Sunday 29 March 2026, 02:30").
    when = dateformat.format(naive, "l j F Y, H:i")
    # A wall time that does not survive the round trip through UTC was skipped.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise WallTimeError(
            _("%(when)s does not exist in %(zone)s: the clocks go forward then. Pick another time.")
            % {"when": when, "zone": tz.key}
        )
    if first.utcoffset() != second.utcoffset():
        raise WallTimeError(
            _(
                "%(when)s happens twice in %(zone)s: the clocks go back then. "
                "Pick a time outside that hour."
            )
            % {"when": when, "zone": tz.key}
        )
    return first.astimezone(UTC)
