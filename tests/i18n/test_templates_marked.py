"""Every word a person reads in a template is marked for translation."""

from pathlib import Path

import pytest

from tests.i18n.unmarked import template_files, unmarked


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(source)
    return path


def test_every_template_is_marked():
    found = [
        f"{path.relative_to(path.parents[2])}:{line}: {text[:80]!r}"
        for path in template_files()
        for line, text in unmarked(path)
    ]
    assert not found, f"{len(found)} unmarked pieces of text:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "<p>Redeem</p>",
        '<button aria-label="Close">×</button>',
        '<input placeholder="Search advocates">',
        '<form hx-confirm="Delete this reward?"></form>',
        '<input type="submit" value="Save">',
        "{% load i18n %}<p>{% translate 'You have' %} {{ n }} points</p>",
        "Hello {{ name }},\n\nYour reward is on its way.",
    ],
)
def test_the_check_finds_unmarked_text(tmp_path, source):
    assert unmarked(write(tmp_path, source))


@pytest.mark.parametrize(
    "source",
    [
        "{% load i18n %}<p>{% translate 'Redeem' %}</p>",
        '{% load i18n %}<button aria-label="{% translate "Close" %}">×</button>',
        "{% load i18n %}{% blocktranslate trimmed count n=n %}One point{% plural %}"
        "{{ n }} points{% endblocktranslate %}",
        "<p>{{ advocate.name }} · {{ points }}</p>",
        "<pre>curl -H 'Authorization: Bearer key' https://example.com</pre>",
        "{# Note to translators #}{% comment %}Not shown{% endcomment %}<p>Vouch</p>",
        "<script>window.say('not prose');</script><style>p { color: red }</style>",
        "{% block main_class %}narrow{% endblock %}",
        '{# i18n: markup only #}<{% if a %}a{% else %}button{% endif %} class="btn">',
        '{% load i18n %}<button type="submit" name="answer" value="accept">'
        '{% translate "Accept" %}</button>',
    ],
)
def test_the_check_passes_marked_text(tmp_path, source):
    assert unmarked(write(tmp_path, source)) == []
