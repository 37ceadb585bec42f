from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError

from advocates.models import Advocate, CommunityGroup
from core.csv import upload_limits_text
from core.forms import OptionalMarkedForm, OptionalMarkedModelForm
from core.images import decode_image
from core.timezones import zone_choices


class ProfileForm(OptionalMarkedModelForm):
    linkedin_url = forms.URLField(
        label="LinkedIn URL", required=False, assume_scheme="https", max_length=200
    )
    avatar_upload = forms.FileField(
        label="Photo",
        required=False,
        help_text="JPEG, PNG or WebP, up to 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    time_zone = forms.ChoiceField(
        label="Timezone",
        required=False,
        choices=lambda: [("", "The program's timezone"), *zone_choices()],
        help_text="Times you offer for reference calls are read in it.",
    )

    class Meta:
        model = Advocate
        fields = [
            "title",
            "seniority",
            "industry",
            "bio",
            "linkedin_url",
            "products",
            "tags",
            "reference_opt_in",
            "reference_max_calls_per_90d",
            "leaderboard_opt_out",
            "time_zone",
        ]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "products": forms.CheckboxSelectMultiple,
            "tags": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "reference_opt_in": "We only suggest you to prospects when this is on.",
            "reference_max_calls_per_90d": "We never ask you for more calls than this.",
            "time_zone": "Times you offer for reference calls are read in it.",
        }

    def clean_reference_max_calls_per_90d(self) -> int:
        value = self.cleaned_data["reference_max_calls_per_90d"]
        if not 0 <= value <= 20:
            raise ValidationError("Choose between 0 and 20 calls per 90 days.")
        return value

    def clean_avatar_upload(self):
        upload = self.cleaned_data.get("avatar_upload")
        if upload:
            decode_image(upload, max_bytes=settings.AVATAR_MAX_BYTES)  # raises a clear error
            upload.seek(0)
        return upload


class InvitationForm(OptionalMarkedForm):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    company = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=200, required=False)


class InvitationCSVForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = (
            f"Columns: email, first_name, last_name, company, title ({upload_limits_text()})."
        )


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
        strip=False,
    )
    password2 = forms.CharField(
        label="Repeat the password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords are different.")
        return data


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email, company…"}),
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Advocate.Status.choices], required=False
    )
    industry = forms.ChoiceField(required=False)
    mine = forms.BooleanField(label="Only advocates I own", required=False)

    def __init__(self, *args: Any, industries: list[str], show_mine: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["industry"]).choices = [("", "Any industry")] + [
            (i, i) for i in industries
        ]
        if not show_mine:
            del self.fields["mine"]


class GroupForm(OptionalMarkedModelForm):
    class Meta:
        model = CommunityGroup
        fields = ["name", "description", "kind"]
        labels = {"kind": "Who can join"}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "kind": forms.RadioSelect,
        }


class GroupDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
