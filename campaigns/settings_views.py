"""The program settings page (managers) and the brand stylesheet every page links to."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import condition, require_GET, require_http_methods

from advocates.images import decode_image
from advocates.roles import manager_required, public
from campaigns import branding
from campaigns.models import ProgramSettings


class ColourInput(forms.TextInput):
    input_type = "color"


class ProgramSettingsForm(forms.Form):
    name = forms.CharField(
        label="Program name",
        max_length=80,
        required=False,
        help_text=f"Shown in the header, page titles and emails. Empty: “{settings.PROGRAM_NAME}”.",
    )
    primary_color = forms.CharField(
        label="Brand colour",
        widget=ColourInput(),
        help_text="Buttons, links and highlights. Text on it is picked to stay readable.",
    )
    logo_upload = forms.FileField(
        label="Logo",
        required=False,
        help_text="PNG, JPEG or WebP (no SVG), up to 5 MB; transparent PNG looks best. "
        "Shown 28 px high in the header.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)
    fatigue_cap_per_week = forms.IntegerField(
        label="Campaign emails per advocate per 7 days",
        min_value=0,
        max_value=50,
        help_text="Campaigns skip advocates who already got this many emails in the last "
        "7 days. 0 stops campaign email to advocates.",
    )

    def clean_primary_color(self) -> str:
        value = self.cleaned_data["primary_color"].strip()
        if not branding.HEX_COLOUR.match(value):
            raise ValidationError("Use a hex colour such as #4338ca.")
        return value.lower()

    def clean_logo_upload(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("logo_upload")
        if upload:
            decode_image(upload, max_bytes=settings.AVATAR_MAX_BYTES)  # a clear error early
            upload.seek(0)
        return upload or None


@manager_required
@require_http_methods(["GET", "POST"])
def program_settings(request: HttpRequest) -> HttpResponse:
    program = ProgramSettings.load()
    initial = {
        "name": program.name,
        "primary_color": program.primary_color,
        "fatigue_cap_per_week": program.fatigue_cap_per_week,
    }
    form = ProgramSettingsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            branding.program_settings_update(
                actor=request.user,
                name=data["name"],
                primary_color=data["primary_color"],
                fatigue_cap_per_week=data["fatigue_cap_per_week"],
                logo=data.get("logo_upload"),
                remove_logo=data.get("remove_logo", False),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error("logo_upload", error)
        else:
            messages.success(request, "Program settings saved.")
            return redirect("campaigns:settings")
    colours = branding.palette(program.primary_color)
    return render(
        request,
        "campaigns/settings.html",
        {
            "form": form,
            "program": program,
            "colours": colours,
            "ink_is_white": colours.ink == branding.WHITE,
            "contrast": round(branding.contrast(colours.brand, colours.ink), 1),
            "logo_url": branding.logo_url(program),
        },
    )


def _brand_etag(request: HttpRequest) -> str:
    program = ProgramSettings.load()
    return f'"brand-{program.primary_color[1:]}-{_stamp(program.updated_at)}"'


def _brand_modified(request: HttpRequest) -> datetime | None:
    return ProgramSettings.load().updated_at


def _stamp(moment: datetime | None) -> str:
    return str(int(moment.timestamp() * 1_000_000)) if moment else "0"


@public
@require_GET
@condition(etag_func=_brand_etag, last_modified_func=_brand_modified)
def brand_css(request: HttpRequest) -> HttpResponse:
    """``:root`` custom properties for the brand colour; base.html links it after app.css.

    The link carries ``?v=<updated_at>``, so a versioned URL may be cached for a long
    time (a new save changes the URL); an unversioned or stale one is revalidated often.
    """
    program = ProgramSettings.load()
    response = HttpResponse(
        branding.palette(program.primary_color).css(), content_type="text/css; charset=utf-8"
    )
    if request.GET.get("v") == brand_version(program):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=300"
    return response


def brand_version(program: ProgramSettings) -> str:
    """The ``v`` of the brand stylesheet's URL: changes whenever the settings are saved."""
    return _stamp(program.updated_at)
