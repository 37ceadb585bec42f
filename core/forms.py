"""Forms of the shared pages (the program settings), and the base of forms that mark
their optional fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.utils import pretty_name
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from core import branding
from core.i18n import lazy_text
from core.images import decode_image
from core.models import MAX_DEAL_AMOUNT_CEILING, MAX_POINTS_PER_EVENT_CEILING

OPTIONAL = gettext_lazy("(optional)")


class OptionalMarkedMixin:
    """A form that mixes required and optional fields says which are which before it is
    sent: each optional field's label ends with "(optional)"; the required ones carry
    the ``required`` attribute Django renders (browsers and screen readers announce it).

    Per form, not site-wide: on a form whose fields are all required a marker on every
    label is noise. Checkboxes are left alone (ticking one is never required)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.required or field.widget.is_hidden or isinstance(field, forms.BooleanField):
                continue
            label = field.label if field.label is not None else pretty_name(name)
            if str(OPTIONAL) not in str(label):
                # Escaped here, kept as markup by the label: "(optional)" reads quieter.
                field.label = format_html(
                    '{} <span class="field-optional">{}</span>', label, OPTIONAL
                )


class OptionalMarkedForm(OptionalMarkedMixin, forms.Form):
    pass


class OptionalMarkedModelForm(OptionalMarkedMixin, forms.ModelForm):
    pass


class ColourInput(forms.TextInput):
    input_type = "color"


class ProgramSettingsForm(OptionalMarkedForm):
    name = forms.CharField(
        label=gettext_lazy("Program name"),
        max_length=80,
        required=False,
        help_text=lazy_text(
            gettext_lazy("Shown in the header, page titles and emails. Empty: “%(name)s”."),
            name=settings.PROGRAM_NAME,
        ),
    )
    primary_color = forms.CharField(
        label=gettext_lazy("Brand colour"),
        widget=ColourInput(),
        help_text=gettext_lazy(
            "Buttons, links and highlights. Text on it is picked to stay readable."
        ),
    )
    logo_upload = forms.FileField(
        label=gettext_lazy("Logo"),
        required=False,
        help_text=gettext_lazy(
            "PNG, JPEG or WebP (no SVG), up to 5 MB; transparent PNG looks best. "
            "Shown 28 px high in the header."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=gettext_lazy("Remove the current logo"), required=False)
    fatigue_cap_per_week = forms.IntegerField(
        label=gettext_lazy("Campaign emails per advocate per 7 days"),
        min_value=0,
        max_value=50,
        help_text=gettext_lazy(
            "Campaigns skip advocates who already got this many emails in the last "
            "7 days. 0 stops campaign email to advocates."
        ),
    )
    max_deal_amount = forms.DecimalField(
        label=gettext_lazy("Maximum deal amount"),
        min_value=1,
        max_value=MAX_DEAL_AMOUNT_CEILING,
        max_digits=14,
        decimal_places=2,
        help_text=lazy_text(
            gettext_lazy(
                "A referral's deal amount above this is refused, from a rep, the CRM or "
                "an import: a mistyped amount never pays a fortune. At most %(ceiling)s."
            ),
            ceiling=lambda: number_format(MAX_DEAL_AMOUNT_CEILING, 0, force_grouping=True),
        ),
    )
    max_points_per_event = forms.IntegerField(
        label=gettext_lazy("Maximum points per event"),
        min_value=1,
        max_value=MAX_POINTS_PER_EVENT_CEILING,
        help_text=lazy_text(
            gettext_lazy(
                "No single award pays more: a reward rule pays at most this, and awards "
                "above it are refused. At most %(ceiling)s."
            ),
            ceiling=lambda: number_format(MAX_POINTS_PER_EVENT_CEILING, force_grouping=True),
        ),
    )
    accepted_answer_points = forms.IntegerField(
        label=gettext_lazy("Points for an accepted answer"),
        required=False,  # left empty: unchanged
        min_value=0,
        max_value=MAX_POINTS_PER_EVENT_CEILING,
        help_text=gettext_lazy(
            "Paid once to the advocate whose reply the asker accepts in the "
            "community (not for answering yourself). 0 pays nothing."
        ),
    )

    def clean_primary_color(self) -> str:
        value = self.cleaned_data["primary_color"].strip()
        if not branding.HEX_COLOUR.match(value):
            raise ValidationError(gettext("Use a hex colour such as #4338ca."))
        return value.lower()

    def clean_logo_upload(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("logo_upload")
        if upload:
            decode_image(upload, max_bytes=settings.AVATAR_MAX_BYTES)  # a clear error early
            upload.seek(0)
        return upload or None


class WebhookEndpointForm(OptionalMarkedForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("Vouch POSTs each event here, signed per Standard Webhooks."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every event, including ones added later."),
    )

    def __init__(self, *args: Any, event_types: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event_types"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(name, f"{name} — {meaning}") for name, meaning in event_types.items()]
