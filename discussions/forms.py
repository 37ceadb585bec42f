from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from discussions.models import Thread
from discussions.services import BODY_MAX, REASON_MAX, TITLE_MAX

MARKDOWN_HELP = gettext_lazy(
    "Markdown works: **bold**, *italic*, `code`, lists, [links](https://example.com). "
    "Mention someone with @ and the part of their email before the @ (e.g. @ada.lovelace)."
)


class ThreadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=Thread.Kind.choices,
        widget=forms.RadioSelect,
        initial=Thread.Kind.QUESTION,
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=gettext_lazy("Details"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
    )
    group = forms.TypedChoiceField(
        label=gettext_lazy("Where"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy("A group's thread is seen only by its members."),
    )

    def __init__(self, *args: Any, groups: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("The whole community")), *((g.pk, g.name) for g in groups)]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Your reply"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=MARKDOWN_HELP,
    )


class ReportForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=REASON_MAX)
    reply = forms.IntegerField(required=False)


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=gettext_lazy("Search"))
    kind = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[("", gettext_lazy("Questions and ideas")), *Thread.Kind.choices],
    )
    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
