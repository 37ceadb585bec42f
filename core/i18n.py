"""Languages: which one a person reads Vouch in, and speaking to them in it.

A signed-in person's language is the one saved on their account (chosen in the
profile; the first sign-in saves the one their browser asked for). Everyone else gets
what ``django.middleware.locale.LocaleMiddleware`` detects: the language cookie, then
the browser's Accept-Language. Email, notifications and anything else written for
someone who is not the one making the request are written in *their* language:
``speaking_to(user)``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


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


class UserLanguageMiddleware:
    """A signed-in person reads Vouch in the language saved on their account.

    Placed after AuthenticationMiddleware and LocaleMiddleware: a person with no saved
    language keeps the one LocaleMiddleware detected (cookie, then Accept-Language).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            language = supported(user.language)
            if language != request.LANGUAGE_CODE:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


def save_language(user, language: str) -> None:
    """Save ``user``'s chosen language (one of settings.LANGUAGES)."""
    user.__class__.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def language_cookie_set(response, language: str) -> None:
    """Remember ``language`` in the browser too (as Django's ``set_language`` does), so
    that it stays after signing out."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _on_login(sender, request, user, **kwargs) -> None:
    """The first sign-in saves the language the browser asked for, so that email
    written to this person later is in it too (they may change it any time)."""
    if not user.language:
        save_language(user, supported(getattr(request, "LANGUAGE_CODE", None)))


def connect_signals() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="vouch-language-login")


if TYPE_CHECKING:
    from django.forms import BaseForm as _FormBase
    from django.utils.functional import _StrPromise
    from django_stubs_ext import StrOrPromise
else:
    _FormBase = object


def site_language() -> str:
    """The language content is written in first (settings.LANGUAGE_CODE, as supported)."""
    return supported(settings.LANGUAGE_CODE)


def site_text(obj, field: str) -> str:
    """A translated field's site-language text (django-modeltranslation reads the active
    language's): what webhooks, the audit log and other machines' records carry."""
    with translation.override(site_language()):
        return getattr(obj, field)


def other_languages() -> list[tuple[str, str]]:
    """(code, name) of each language besides the site's, in settings order."""
    site = site_language()
    return [(code, name) for code, name in settings.LANGUAGES if code != site]


def localized_names(*fields: str) -> tuple[str, ...]:
    """Every language's column of each translated field: ``title`` → ``title_en``, …"""
    return tuple(f"{field}_{code}" for field in fields for code, _ in settings.LANGUAGES)


class TranslatedFieldsMixin(_FormBase):
    """A form's translated fields, written per language.

    ``translated_fields`` names model fields registered with django-modeltranslation.
    The form's own field (``title``) is the site language's text, whatever language
    the manager reads Vouch in; an optional field per other language follows it
    (``title_es``: "Title (Español)"). Left empty, readers of that language see the
    site language's text. The cleaned data carries every language's column
    (``title_en``, ``title_es``, …) for the services, after the plain name.
    """

    translated_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        saved = instance is not None and instance.pk is not None
        site = site_language()
        fields = dict(self.fields)
        ordered = {}
        for name, field in fields.items():
            ordered[name] = field
            if name not in self.translated_fields:
                continue
            if saved:
                self.initial[name] = getattr(instance, f"{name}_{site}") or ""
            for code, language_name in other_languages():
                extra = copy.deepcopy(field)
                extra.required = False
                extra.label = _("%(label)s (%(language)s)") % {
                    "label": field.label or name.capitalize(),
                    "language": language_name,
                }
                extra.help_text = _(
                    "Optional: left empty, readers in %(language)s see the text above."
                ) % {"language": language_name}
                extra.widget.attrs["lang"] = code
                ordered[f"{name}_{code}"] = extra
                if saved:
                    self.initial[f"{name}_{code}"] = getattr(instance, f"{name}_{code}") or ""
        self.fields = ordered

    def translations(self) -> list:
        """The bound fields of the other languages' texts, for a "Translations" section."""
        return [
            self[f"{name}_{code}"]
            for name in self.translated_fields
            for code, _name in other_languages()
            if f"{name}_{code}" in self.fields
        ]

    def clean(self):
        cleaned = cast(dict[str, Any], super().clean())
        site = site_language()
        for name in self.translated_fields:
            if name in cleaned:
                cleaned[f"{name}_{site}"] = cleaned[name]
            for code, _name in other_languages():
                key = f"{name}_{code}"
                cleaned[key] = (cleaned.get(key) or "").strip() or None
        return cleaned

    def _post_clean(self):
        # A ModelForm writes the plain name through modeltranslation's descriptor, which
        # writes the *active* language's column: make that the site's.
        with translation.override(site_language()):
            super()._post_clean()  # type: ignore[misc]  # BaseForm's, missing from the stubs
        instance = getattr(self, "instance", None)
        if instance is not None and hasattr(self, "cleaned_data"):
            for name in self.translated_fields:
                for code, _name in other_languages():
                    key = f"{name}_{code}"
                    if key in self.cleaned_data:
                        setattr(instance, key, self.cleaned_data[key])


def lazy_text(message: StrOrPromise, **params: object) -> _StrPromise:
    """Text written later, in the language active then: ``message`` (a ``gettext_lazy``
    msgid with ``%(name)s`` placeholders) formatted with ``params``. A param may be lazy
    too, or a callable read at that moment (a challenge's title, which has a text per
    language). The points ledger writes a line given this way in its advocate's language
    (``rewards.services.ledger``), however the caller is speaking."""

    def text() -> str:
        values = {name: value() if callable(value) else value for name, value in params.items()}
        return str(message) % {name: str(value) for name, value in values.items()}

    return lazy(text, str)()  # type: ignore[return-value]  # the stubs type lazy() as str


def written_in(text: StrOrPromise, language: str | None) -> str:
    """``text`` as a plain string; lazy text is written in ``language`` (a saved
    ``User.language``; blank: the site's)."""
    if isinstance(text, Promise):
        with translation.override(supported(language)):
            return str(text)
    return text


def number(value, decimals: int | None = None) -> str:
    """``value`` grouped the reader's way (1,200 in English, 1.200 in German): for
    figures put into translated sentences, as ``intcomma`` does in templates."""
    return number_format(value, decimal_pos=decimals, force_grouping=True)


# Languages whose nouns keep their capital inside a sentence.
_NOUNS_CAPITALISED = {"de"}


def in_sentence(label: StrOrPromise) -> str:
    """A label (a choice's, "Video call") as a word inside a sentence ("a video call"):
    lower-cased, except in languages that capitalise nouns (German's "Videogespräch"
    stays as it is)."""
    text = str(label)
    return text if translation.get_language() in _NOUNS_CAPITALISED else text.lower()


def with_weekday(value, *, short: bool = False) -> str:
    """A moment with its weekday, the reader's way ("Thursday, December 3, 2026, 15:00";
    short: "Thu Dec 3, 15:00"): for meetings, where the day of the week matters. The
    formats are translated like any text (Django's date syntax)."""
    if short:
        layout = pgettext("short date and time with weekday, Django date syntax", "D M j, H:i")
    else:
        layout = pgettext("date and time with weekday, Django date syntax", "l, F j, Y, H:i")
    return date_format(value, layout)
