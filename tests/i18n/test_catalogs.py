"""The Spanish and German catalogs: complete, placeholders intact, compiled, in step
with the code (``make messages`` regenerates them; the .mo files are committed so that a
machine without GNU gettext still serves every language)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _key(entry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated(language):
    po = catalog(language)
    missing = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if not e.obsolete and "fuzzy" in e.flags]
    assert not missing, f"{len(missing)} untranslated, e.g. {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert len([e for e in po if not e.obsolete]) > 2000  # the whole site, not a sample


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    wrong = []
    for entry in catalog(language):
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            wanted = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural)
            forms = list(entry.msgstr_plural.values())
        else:
            wanted = _placeholders(entry.msgid)
            forms = [entry.msgstr]
        for form in forms:
            # A singular form may leave the count out ("One point" for "%(n)s points").
            if not _placeholders(form) <= wanted or (
                not entry.msgid_plural and _placeholders(form) != wanted
            ):
                wrong.append((entry.msgid, form))
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_in_step(language):
    po = catalog(language)
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    compiled = {_key(e): (e.msgstr, dict(e.msgstr_plural)) for e in mo if e.msgid}
    written = {
        _key(e): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()})
        for e in po
        if not e.obsolete and e.translated()
    }
    compiled = {k: (s, {int(i): v for i, v in p.items()}) for k, (s, p) in compiled.items()}
    assert compiled == written, "run `make messages` to compile the catalogs"


def test_makemessages_finds_nothing_new(tmp_path, monkeypatch, settings):
    """The catalogs hold every marked string of the code (and nothing else)."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext) is missing: .ci/run installs it")
        pytest.skip("needs GNU gettext (xgettext) to extract the strings")
    # makemessages writes beside the sources it reads (into the locale/ of the tree it
    # runs in), so it runs in a copy of the tree: the checkout's catalogs stay as they are.
    ignored = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", *MESSAGES_IGNORE)
    shutil.copytree(ROOT, tmp_path, ignore=ignored, dirs_exist_ok=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", *MAKEMESSAGES_ARGS, verbosity=0)
    for language in LANGUAGES:
        fresh = polib.pofile(str(tmp_path / "locale" / language / "LC_MESSAGES" / "django.po"))
        new = sorted(
            e.msgid
            for e in fresh
            if not e.obsolete and not (e.translated() and "fuzzy" not in e.flags)
        )
        gone = {_key(e) for e in catalog(language) if not e.obsolete} - {
            _key(e) for e in fresh if not e.obsolete
        }
        assert not new, f"{language}: {len(new)} strings to translate, e.g. {new[:5]}"
        assert not gone, f"{language}: {len(gone)} strings no longer used: run `make messages`"


# The same as the Makefile's `messages` target (MESSAGES_IGNORE there; keep them alike).
MESSAGES_IGNORE = ["tests", "bench", "demo", "docs", "artifacts", "build", "dist", "media"]
MESSAGES_IGNORE += ["node_modules", "staticfiles", "*.egg-info", "db.sqlite3*"]
MAKEMESSAGES_ARGS = [
    "--locale=es",
    "--locale=de",
    "--no-location",
    "--no-obsolete",
    *(f"--ignore={pattern}" for pattern in [".venv", *MESSAGES_IGNORE]),
]
