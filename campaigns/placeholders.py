"""The placeholder language of campaign subjects and bodies, and rendering one email.

A campaign's subject and body are plain text written by a manager, with tags such as
``{{ first_name }}``. This is deliberately NOT the Django template language: a manager's
text must not reach template tags, filters or attribute lookups, and a tag that does not
exist must be refused when the campaign is saved (``placeholder_errors``), never turn
into a blank or a broken email at send time.

Rendering gives a plain-text and an HTML body. In the HTML every piece of user-entered
content (the body itself, recipients' names, any value) is HTML-escaped; paragraphs come
from blank lines and http(s) links are made clickable (through the click tracker when a
``link`` wrapper is given).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from campaigns import kinds
from core.i18n import site_language

BASE_PLACEHOLDERS = frozenset(
    {
        "first_name",
        "last_name",
        "program_name",
        "referral_link",
        "challenge_link",
        "unsubscribe_link",
    }
)

# Anything between double braces (non-greedy, on one line) is meant as a tag.
_TAG = re.compile(r"{{(.*?)}}")
_NAME = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*$")
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}'\""


def allowed_placeholders(kind: str) -> frozenset[str]:
    return BASE_PLACEHOLDERS | frozenset(kinds.PLACEHOLDERS.get(kind, frozenset()))


def placeholder_errors(text: str, *, kind: str) -> list[str]:
    """What is wrong with the tags of ``text`` ([] when every tag is known and well-formed)."""
    allowed = allowed_placeholders(kind)
    errors: list[str] = []
    for match in _TAG.finditer(text or ""):
        inner = match.group(1)
        name = _NAME.match(inner)
        if name is None:
            errors.append(
                _("“%(tag)s” is not a placeholder: write %(example)s.")
                % {"tag": match.group(0), "example": "{{ name }}"}
            )
        elif name.group(1) not in allowed:
            errors.append(
                _("Unknown placeholder %(placeholder)s. Available: %(available)s.")
                % {
                    "placeholder": f"{{{{ {name.group(1)} }}}}",
                    "available": ", ".join(sorted(allowed)),
                }
            )
    leftover = _TAG.sub("", text or "")
    for stray in ("{{", "}}", "{%", "%}"):
        if stray in leftover:
            errors.append(
                _("“%(stray)s” is not closed or opened: placeholders look like %(example)s.")
                % {"stray": stray, "example": "{{ name }}"}
            )
            break
    return list(dict.fromkeys(errors))


def used_placeholders(text: str) -> set[str]:
    found = set()
    for match in _TAG.finditer(text or ""):
        name = _NAME.match(match.group(1))
        if name:
            found.add(name.group(1))
    return found


def render_text(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known tag replaced by its value (unknown tags: left empty)."""

    def value(match: re.Match) -> str:
        name = _NAME.match(match.group(1))
        return str(values.get(name.group(1), "")) if name else ""

    return _TAG.sub(value, text or "")


def _linkify(text: str, link: Callable[[str], str] | None) -> str:
    """Escape ``text`` and turn its http(s) URLs into links (hrefs through ``link``)."""
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        trimmed = url.rstrip(_TRAILING)
        end = match.start() + len(trimmed)
        out.append(escape(text[position : match.start()]))
        href = link(trimmed) if link else trimmed
        out.append(f'<a href="{escape(href)}">{escape(trimmed)}</a>')
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def text_to_html(text: str, *, link: Callable[[str], str] | None = None) -> SafeString:
    """Paragraphs from blank lines, <br> for single newlines, escaped, links clickable."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    html = [
        "<p>" + _linkify(p, link).replace("\n", "<br>\n") + "</p>" for p in paragraphs if p.strip()
    ]
    return mark_safe("\n".join(html))  # every piece went through escape()


def track_links_in_text(text: str, link: Callable[[str], str]) -> str:
    """The plain-text body with each URL replaced by its tracked version."""

    def replace(match: re.Match) -> str:
        url = match.group(0)
        trimmed = url.rstrip(_TRAILING)
        return link(trimmed) + url[len(trimmed) :]

    return _URL.sub(replace, text)


def every_language_problems(campaign) -> list[str]:
    """Why ``campaign`` cannot start, for the text each reader gets: the site language's
    and every other language's own subject and body (a reader without one gets the
    site's). The same answer whoever asks, in whatever language, or the scheduler."""
    site = site_language()
    problems: list[str] = []
    for code, _name in settings.LANGUAGES:
        own_subject = getattr(campaign, f"subject_{code}")
        own_body = getattr(campaign, f"body_{code}")
        if code != site and not (own_subject or own_body):
            continue
        subject = own_subject or getattr(campaign, f"subject_{site}") or ""
        body = own_body or getattr(campaign, f"body_{site}") or ""
        for text in (subject, body):
            problems += placeholder_errors(text, kind=campaign.kind)
        problems += kinds.kind_problems(
            kind=campaign.kind,
            body=body,
            subject=subject,
            challenge=campaign.challenge,
            campaign=campaign,
        )
    return list(dict.fromkeys(problems))  # each once, in order
