from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.branding import brand_version, logo_url
from core.models import ProgramSettings
from core.roles import Role, user_roles

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The main navigation per role: (URL name, label). A link shows once its page exists;
# the labels are lazy: cached once, each page shows them in its reader's language.
# The console's own pages are in its navigation (templates/campaigns/_console_nav.html).
ADVOCATE_NAV = (
    ("advocates:hub", _("Hub")),
    ("challenges:list", _("Challenges")),
    # Short words of their own in the bar (nine links on one row, in every language).
    ("challenges:leaderboard", pgettext_lazy("main navigation", "Leaderboard")),
    ("advocates:groups", _("Groups")),
    ("discussions:list", _("Community")),
    ("rewards:catalog", _("Rewards")),
    ("referrals:tracker", pgettext_lazy("main navigation", "Referrals")),
    ("references:my_requests", _("References")),
    ("advocates:profile", _("Profile")),
)
STAFF_NAV = (
    ("advocates:directory", _("People")),
    ("advocates:invite", _("Invitations")),
    ("referrals:rep_list", _("Referrals")),
    ("references:requests", _("Reference requests")),
)
MANAGER_NAV = (("console:home", _("Console")),)
# Pages that mark the "Console" link as the current one besides those under /console/.
CONSOLE_VIEWS = {"references:console"}


def roles(request: HttpRequest) -> dict:
    current = user_roles(request.user)
    return {
        **_branding(),
        "is_advocate": Role.ADVOCATE in current,
        "is_rep": Role.REP in current,
        "is_manager": Role.MANAGER in current,
        # Called by the template only where the header is rendered, not served kept.
        "nav_links": (lambda: _nav(request, current)) if current else [],
        "nav_key": _nav_key(request, current),
    }


def _nav_key(request: HttpRequest, current: frozenset[Role]) -> str:
    """What the layout's links depend on besides the language: the roles, the page (its
    link marked current), the URL prefix and URLconf (base.html keeps its rendered parts
    under it: core.templatetags.layout_tags)."""
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match is not None else ""
    in_console = request.path.startswith("/console/") or here in CONSOLE_VIEWS
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return f"{','.join(sorted(current))}|{here}|{in_console}|{get_script_prefix()}|{urlconf}"


def _nav(request: HttpRequest, current: frozenset[Role]) -> list[dict]:
    """The links of the main navigation for ``current`` roles, the page's own marked."""
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match is not None else ""
    in_console = request.path.startswith("/console/") or here in CONSOLE_VIEWS
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return [
        {
            "url": url,
            "label": label,
            "current": name == here or (name == "console:home" and in_console),
        }
        for name, label, url in _links(urlconf, get_script_prefix(), current)
    ]


@lru_cache(maxsize=64)
def _links(
    urlconf: str, prefix: str, current: frozenset[Role]
) -> tuple[tuple[str, StrOrPromise, str], ...]:
    """(name, label, URL) of every link ``current`` roles see: reversed once per process
    (the URLs are fixed while it runs), not on every page."""
    names: list[tuple[str, StrOrPromise]] = []
    if Role.ADVOCATE in current:
        names += ADVOCATE_NAV
    if Role.MANAGER in current or Role.REP in current:
        names += STAFF_NAV
    if Role.MANAGER in current:
        names += MANAGER_NAV
    links = []
    for name, label in names:
        try:
            links.append((name, label, reverse(name, urlconf=urlconf)))
        except NoReverseMatch:
            continue  # not built yet
    return tuple(links)


# Made once: django.utils.functional.lazy builds a proxy class on every call.
_lazy_str = lazy(lambda read, program: read(program()), str)


def _branding() -> dict:
    """The program's name, logo and colour (one cached row), read only if a template
    uses them: htmx fragments and polled progress bars never touch the cache for them."""
    program = cache(ProgramSettings.load)
    return {
        "program_name": _lazy_str(lambda row: row.display_name, program),
        "program_logo_url": _lazy_str(logo_url, program),
        "brand_color": _lazy_str(lambda row: row.primary_color, program),
        "brand_version": _lazy_str(brand_version, program),
    }
