"""A form renderer that writes Django's most rendered form templates in Python.

Django renders every label, input, select, checkbox and error list of a form through
its templates, several nested includes each; on a form of many fields that is most of
the page's time (the segment editor: some 16 fields and 35 checkboxes, re-rendered by
each count). ``PythonFormRenderer`` writes those few templates' markup in Python, from
the very context Django builds for them, and renders every other template as Django
does. A form opts in with ``default_renderer = PYTHON_RENDERER``;
tests/core/test_renderers.py checks the markup against Django's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, escape

WIDGETS = "django/forms/widgets/"


def _attrs(attrs: Mapping[str, Any] | None) -> str:
    """django/forms/attrs.html: False left out, True as a bare name, in the given order."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in (attrs or {}).items()
        if value is not False
    )


def _input(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html"""
    value = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
    return (
        f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _ungrouped(optgroups: Iterable[tuple[Any, list, int]]) -> list[dict] | None:
    """The options, or None when any is in a named group (left to Django's templates)."""
    options: list[dict] = []
    for group, group_options, _index in optgroups:
        if group:
            return None
        options.extend(group_options)
    return options


def _label(context: Mapping[str, Any]) -> str:
    """django/forms/label.html"""
    label = conditional_escape(context["label"])
    if not context["use_tag"]:
        return label
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _text_input(context: Mapping[str, Any]) -> str:
    return _input(context["widget"])


def _select(context: Mapping[str, Any]) -> str | None:
    """django/forms/widgets/select.html with select_option.html"""
    widget = context["widget"]
    options = _ungrouped(widget["optgroups"])
    if options is None:
        return None
    rendered = "".join(
        f'\n  <option value="{escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>\n"
        for option in options
    )
    return f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>{rendered}\n</select>'


def _checkboxes(context: Mapping[str, Any]) -> str | None:
    """django/forms/widgets/checkbox_select.html (multiple_input.html, input_option.html)"""
    widget = context["widget"]
    options = _ungrouped(widget["optgroups"])
    if options is None:
        return None
    boxes = []
    for option in options:
        label_for = option["attrs"].get("id")
        boxes.append(
            f"<div>\n    <label{_attrs({'for': label_for}) if label_for else ''}>"
            f"{_input(option)}\n {conditional_escape(option['label'])}</label>\n\n</div>"
        )
    outer = {"id": widget["attrs"].get("id"), "class": widget["attrs"].get("class")}
    return f"<div{_attrs({k: v for k, v in outer.items() if v})}>{''.join(boxes)}\n</div>"


def _errors(context: Mapping[str, Any]) -> str:
    """django/forms/errors/list/ul.html"""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_attr = f' id="{escape(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
    return f'<ul class="{escape(context["error_class"])}"{id_attr}>{items}</ul>'


FAST: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "django/forms/label.html": _label,
    **{f"{WIDGETS}{name}.html": _text_input for name in ("text", "number", "date", "email")},
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}checkbox_select.html": _checkboxes,
    "django/forms/errors/list/default.html": _errors,
    "django/forms/errors/list/ul.html": _errors,
}


class PythonFormRenderer(DjangoTemplates):
    """Django's template renderer, with the templates in ``FAST`` written in Python
    (no app overrides them; a test keeps it so)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        fast = FAST.get(template_name)
        if fast is not None:
            html = fast(context)
            if html is not None:
                return html
        return super().render(template_name, context, request)


PYTHON_RENDERER = PythonFormRenderer()
