"""Languages and time: which languages Vouch speaks, where its catalogs are, how content
written per language falls back (core/i18n.py; README "Languages").

``config/settings/__init__.py`` imports every name.
"""

from __future__ import annotations

from pathlib import Path

# The site's language (what a visitor gets when the browser asks for none Vouch speaks,
# and what content is written in first); each person may choose another in their profile.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("de", "Deutsch")]
LOCALE_PATHS = [Path(__file__).resolve().parents[2] / "locale"]  # the catalogs (make messages)
# Content a manager writes (challenges, rewards, campaign emails) is written in the
# site's language and may carry a text per other language; a reader whose language has
# none reads the site's, then any other (django-modeltranslation).
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
MODELTRANSLATION_FALLBACK_LANGUAGES = {
    "default": (LANGUAGE_CODE, *(code for code, _ in LANGUAGES if code != LANGUAGE_CODE))
}
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# English date formats as Vouch shows them (config/formats/en/formats.py); other
# languages keep Django's.
FORMAT_MODULE_PATH = ["config.formats"]
