"""Languages: which one a person reads Vouch in, and speaking to them in it.

A signed-in person's language is the one saved on their account (chosen in the
profile; the first sign-in saves the one their browser asked for). Everyone else gets
what ``django.middleware.locale.LocaleMiddleware`` detects: the language cookie, then
the browser's Accept-Language. Email, notifications and anything else written for
someone who is not the one making the request are written in *their* language:
``speaking_to(user)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


def supported(code: str | None) -> str:
    """``code`` if Vouch speaks it (``es-MX`` counts as ``es``), else the site's language."""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def language_of(user) -> str:
    """The language to write to ``user`` in (a user without one: the site's language)."""
    return supported(getattr(user, "language", "") if user is not None else "")


@contextmanager
def speaking_to(user) -> Iterator[str]:
    """Translate to ``user``'s language inside the block (for email, notifications)."""
    language = language_of(user)
    with translation.override(language):
        yield language
