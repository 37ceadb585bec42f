"""Find user-facing text in templates that is not marked for translation.

A template's text is what is left once its tags, variables, comments, scripts, styles
and code samples are taken away, plus the attributes a person reads or hears (title,
alt, placeholder, aria-label, hx-confirm, a submit input's value). Any word in it (two letters
or more) is unmarked text: it should be inside {% translate %} or {% blocktranslate %}.

Run by tests/i18n/test_templates_marked.py; a person can run it too:
``python -m tests.i18n.unmarked templates/rewards`` lists the offending lines.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Read or heard by a person: these attribute values must be translated too.
SPOKEN_ATTRIBUTES = {
    "title",
    "alt",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "hx-confirm",
    "data-confirm",
    "data-copied",
    "data-copy-failed",
}
# Content no one reads as prose: code samples, scripts, styles.
SILENT_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp"}
# Words that are the same in every language: the product, acronyms, units.
SAME_IN_EVERY_LANGUAGE = {
    "Vouch",
    "NPS",
    "AMS",
    "ROI",
    "UTC",
    "HTTP",
    "Facebook",
    "CSV",
    "API",
    "URL",
    "ID",
    "CRM",
    "SSO",
    "SAML",
    "OIDC",
    "OAuth",
    "HMAC",
    "JSON",
    "SHA",
    "Slack",
    "Salesforce",
    "HubSpot",
    "LinkedIn",
    "Google",
    "Microsoft",
    "px",
    "KB",
    "MB",
}
# A template whose markup the parser cannot follow (a tag name built by template tags)
# and that holds no prose says so in a comment, and is not read.
MARKUP_ONLY = "i18n: markup only"
WORD = re.compile(r"[^\W\d_]{2,}")
HOLE = "\x00"  # where a variable or a tag stood


def skeleton(source: str) -> list[tuple[int, str]]:
    """The template's own text with every template construct replaced by HOLE.

    Returns (line number, text) pieces; the contents of {% blocktranslate %},
    {% comment %} and {% verbatim %} are dropped (the first is marked, the others are
    not shown or are code).
    """
    pieces: list[tuple[int, str]] = []
    skip_until: str | None = None
    for token in Lexer(source).tokenize():
        if skip_until:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == skip_until:
                skip_until = None
            continue
        if token.token_type == TokenType.TEXT:
            pieces.append((token.lineno, token.contents))
        elif token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in {"blocktranslate", "blocktrans"} or name in {"comment", "verbatim"}:
                skip_until = "end" + name
            elif token.contents.split()[1:2] in (["main_class"],):
                skip_until = "endblock"  # CSS class names, not prose
            pieces.append((token.lineno, HOLE))
        elif token.token_type == TokenType.VAR:
            pieces.append((token.lineno, HOLE))
    return pieces


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.silent = 0
        self.found: list[tuple[int, str]] = []
        self.line_offset = 0

    def handle_starttag(self, tag, attrs):
        if tag in SILENT_ELEMENTS:
            self.silent += 1
        for name, value in attrs:
            if value and name in SPOKEN_ATTRIBUTES:
                self._check(value)
            elif value and name == "value" and tag == "input" and ("type", "submit") in attrs:
                # A submit input shows its value; a <button>'s value is only sent.
                self._check(value)

    def handle_startendtag(self, tag, attrs):
        silent = self.silent
        self.handle_starttag(tag, attrs)
        self.silent = silent

    def handle_endtag(self, tag):
        if tag in SILENT_ELEMENTS and self.silent:
            self.silent -= 1

    def handle_data(self, data):
        if not self.silent:
            self._check(data)

    def _check(self, text: str) -> None:
        for part in text.split(HOLE):
            words = [w for w in WORD.findall(part) if w not in SAME_IN_EVERY_LANGUAGE]
            if words:
                self.found.append((self.line_offset + self.getpos()[0], part.strip()))


def unmarked(path: Path) -> list[tuple[int, str]]:
    """(line, text) for each piece of unmarked text in the template at ``path``."""
    source = path.read_text()
    if MARKUP_ONLY in source:
        return []
    text = "".join(piece for _, piece in skeleton(source))
    # Newlines survive in the skeleton except inside dropped blocks, so line numbers
    # are close; a blocktranslate that spans lines shifts the ones after it.
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.found


def template_files(root: Path = TEMPLATES) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in {".html", ".txt"})


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [TEMPLATES]
    count = 0
    for root in roots:
        for path in template_files(root) if root.is_dir() else [root]:
            for line, text in unmarked(path):
                count += 1
                print(f"{path}:{line}: {text[:100]!r}")
    print(f"{count} unmarked")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
