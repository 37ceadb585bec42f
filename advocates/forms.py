from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.models import Advocate, CommunityGroup
from core.csv import upload_limits_text
from core.forms import OptionalMarkedForm, OptionalMarkedModelForm
from core.images import decode_image
from core.timezones import zone_choices


class ProfileForm(OptionalMarkedModelForm):
    linkedin_url = forms.URLField(
        label=gettext_lazy("LinkedIn URL"), required=False, assume_scheme="https", max_length=200
    )
    avatar_upload = forms.FileField(
        label=gettext_lazy("Photo"),
        required=False,
        help_text=gettext_lazy("JPEG, PNG or WebP, up to 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    time_zone = forms.ChoiceField(
        label=gettext_lazy("Timezone"),
        required=False,
        choices=lambda: [("", _("The program's timezone")), *zone_choices()],
        help_text=gettext_lazy("Times you offer for reference calls are read in it."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        required=False,  # left out: unchanged
        help_text=gettext_lazy("Vouch and the email it sends you are in this language."),
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
        # The labels the page showed from the model's field names, translated.
        labels = {
            "title": gettext_lazy("Title"),
            "seniority": gettext_lazy("Seniority"),
            "industry": gettext_lazy("Industry"),
            "bio": gettext_lazy("Bio"),
            "products": gettext_lazy("Products"),
            "tags": gettext_lazy("Experience tags"),
            "reference_opt_in": gettext_lazy("Available for reference calls"),
            "reference_max_calls_per_90d": gettext_lazy("Reference calls per 90 days"),
            "leaderboard_opt_out": gettext_lazy("Hide me from public leaderboards"),
        }
        help_texts = {
            "reference_opt_in": gettext_lazy("We only suggest you to prospects when this is on."),
            "reference_max_calls_per_90d": gettext_lazy(
                "We never ask you for more calls than this."
            ),
            "time_zone": gettext_lazy("Times you offer for reference calls are read in it."),
        }

    def clean_reference_max_calls_per_90d(self) -> int:
        value = self.cleaned_data["reference_max_calls_per_90d"]
        if not 0 <= value <= 20:
            raise ValidationError(_("Choose between 0 and 20 calls per 90 days."))
        return value

    def clean_avatar_upload(self):
        upload = self.cleaned_data.get("avatar_upload")
        if upload:
            decode_image(upload, max_bytes=settings.AVATAR_MAX_BYTES)  # raises a clear error
            upload.seek(0)
        return upload


class InvitationForm(OptionalMarkedForm):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    company = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)


class InvitationCSVForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Columns: email, first_name, last_name, company, title (%(limits)s)."
        ) % {"limits": upload_limits_text()}


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label=gettext_lazy("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
        strip=False,
    )
    password2 = forms.CharField(
        label=gettext_lazy("Repeat the password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords are different."))
        return data


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("Name, email, company…")}
        ),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any status")), *Advocate.Status.choices],
        required=False,
    )
    industry = forms.ChoiceField(label=gettext_lazy("Industry"), required=False)
    mine = forms.BooleanField(label=gettext_lazy("Only advocates I own"), required=False)

    def __init__(self, *args: Any, industries: list[str], show_mine: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["industry"]).choices = [("", _("Any industry"))] + [
            (i, i) for i in industries
        ]
        if not show_mine:
            del self.fields["mine"]


class GroupForm(OptionalMarkedModelForm):
    class Meta:
        model = CommunityGroup
        fields = ["name", "description", "kind"]
        labels = {
            "name": gettext_lazy("Name"),
            "description": gettext_lazy("Description"),
            "kind": gettext_lazy("Who can join"),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "kind": forms.RadioSelect,
        }


class GroupDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", gettext_lazy("Approve")), ("decline", gettext_lazy("Decline"))]
    )
