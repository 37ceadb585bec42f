"""core.renderers.PythonFormRenderer writes the markup Django's templates write, byte for
byte: labels, inputs, selects, checkbox lists and error lists, escaped the same way."""

from __future__ import annotations

from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from core.renderers import FAST, PYTHON_RENDERER

CHOICES = [("a", "A & <b>"), ("b", 'Quote "b"'), ("", "Empty")]
GROUPED = [("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")]


class Everything(forms.Form):
    text = forms.CharField(
        label="Name <i>",
        max_length=20,
        help_text="Help & more",
        widget=forms.TextInput(attrs={"placeholder": 'Say "hi" & <wave>', "autofocus": True}),
    )
    number = forms.IntegerField(required=False, min_value=0, max_value=100)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField(required=False, label="E-mail?")
    select = forms.ChoiceField(
        choices=CHOICES, required=False, widget=forms.Select(attrs={"data-x": "<&>"})
    )
    boxes = forms.MultipleChoiceField(
        choices=CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    grouped_boxes = forms.MultipleChoiceField(
        choices=GROUPED, required=False, widget=forms.CheckboxSelectMultiple
    )
    flag = forms.BooleanField(required=False)


def _pieces(form: forms.Form) -> list[str]:
    if form.is_bound:
        form.is_valid()
    out = [str(form.non_field_errors())]
    for name in form.fields:
        field = form[name]
        out += [str(field), field.label_tag(), str(field.errors), str(field.errors.as_ul())]
    return out


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": 'x"<y>&', "number": "7", "date": "2026-01-02", "select": "b", "boxes": ["a"]},
        {"text": "", "number": "-1", "date": "nope", "email": "bad", "boxes": ["zz"]},
        {"grouped": "y", "grouped_boxes": ["x", "z"], "flag": "on"},
    ],
)
def test_markup_is_djangos(data) -> None:
    fast = (
        Everything(data, renderer=PYTHON_RENDERER) if data else Everything(renderer=PYTHON_RENDERER)
    )
    slow = (
        Everything(data, renderer=DjangoTemplates())
        if data
        else Everything(renderer=DjangoTemplates())
    )
    assert _pieces(fast) == _pieces(slow)
    assert str(fast) == str(slow)  # the whole form, through Django's own form templates


def test_the_written_templates_are_djangos_own() -> None:
    """No app overrides a template the renderer writes in Python (it would be ignored)."""
    own = Path(django.__file__).parent / "forms" / "templates"
    for name in FAST:
        origin = Path(DjangoTemplates().get_template(name).origin.name)
        assert origin.is_relative_to(own), (name, origin)
