from __future__ import annotations

from typing import Any

from django import forms

from discussions.models import Thread
from discussions.services import BODY_MAX, REASON_MAX, TITLE_MAX

MARKDOWN_HELP = (
    "Markdown works: **bold**, *italic*, `code`, lists, [links](https://example.com). "
    "Mention someone with @ and the part of their email before the @ (e.g. @ada.lovelace)."
)


class ThreadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Thread.Kind.choices, widget=forms.RadioSelect, initial=Thread.Kind.QUESTION
    )
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(
        label="Details",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
    )
    group = forms.TypedChoiceField(
        label="Where",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="A group's thread is seen only by its members.",
    )

    def __init__(self, *args: Any, groups: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "The whole community"), *((g.pk, g.name) for g in groups)]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=MARKDOWN_HELP,
    )


class ReportForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX)
    reply = forms.IntegerField(required=False)


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    kind = forms.ChoiceField(
        required=False, choices=[("", "Questions and ideas"), *Thread.Kind.choices]
    )
    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
