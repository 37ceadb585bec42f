from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from advocates.models import Advocate, Company, Product, Tag
from core.csv import upload_limits_text
from core.forms import OptionalMarkedForm
from references.models import MatchingWeights, ReferenceRequest


class DateInput(forms.DateInput):
    input_type = "date"


class ReferenceRequestForm(OptionalMarkedForm):
    prospect_name = forms.CharField(label="Prospect's name", max_length=200)
    prospect_email = forms.EmailField(label="Prospect's email")
    prospect_title = forms.CharField(label="Their title", max_length=200, required=False)
    prospect_seniority = forms.ChoiceField(
        label="Their seniority",
        choices=[("", "Guess from the title"), *Advocate.Seniority.choices],
        required=False,
    )
    prospect_company = forms.CharField(label="Company", max_length=200)
    prospect_industry = forms.CharField(label="Industry", max_length=100, required=False)
    prospect_company_size = forms.ChoiceField(
        label="Company size", choices=[("", "Unknown"), *Company.SizeBand.choices], required=False
    )
    opportunity_name = forms.CharField(label="Opportunity", max_length=200)
    # Required: a rep asks for a reference on an opportunity their CRM already values,
    # and the amount is what "revenue influenced by references" adds up.
    opportunity_amount = forms.DecimalField(
        label="Amount",
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="The opportunity's value in dollars, as in your CRM.",
    )
    opportunity_stage = forms.ChoiceField(label="Stage", choices=ReferenceRequest.Stage.choices)
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Products the prospect is evaluating.",
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="What the prospect cares about",
        help_text="Matched against advocates' experience tags.",
    )
    call_type = forms.ChoiceField(choices=ReferenceRequest.CallType.choices)
    needed_by = forms.DateField(widget=DateInput)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def clean_needed_by(self):
        value = self.cleaned_data["needed_by"]
        if value < timezone.localdate():
            raise ValidationError("Pick a date from today on.")
        return value


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)", max_length=300, required=False, widget=forms.TextInput
    )


class FeedbackForm(OptionalMarkedForm):
    rating = forms.TypedChoiceField(
        label="How useful was the call?",
        choices=[(5, "5 — very"), (4, "4"), (3, "3"), (2, "2"), (1, "1 — not at all")],
        coerce=int,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label="Anything to add?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("won", "Won"), ("lost", "Lost")], widget=forms.RadioSelect
    )
    won_amount = forms.DecimalField(
        label="Amount won", min_value=0, max_digits=12, decimal_places=2, required=False
    )
    closed_on = forms.DateField(widget=DateInput, initial=timezone.localdate)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("outcome") == "won" and data.get("won_amount") is None:
            self.add_error("won_amount", "Enter the amount won.")
        closed_on = data.get("closed_on")
        if closed_on and closed_on > timezone.localdate():
            self.add_error("closed_on", "The close date cannot be in the future.")
        return data


class PauseForm(forms.Form):
    until = forms.DateField(label="No calls until", widget=DateInput, required=False)

    def clean_until(self):
        value = self.cleaned_data.get("until")
        if value and value < timezone.localdate():
            raise ValidationError("Pick a date from today on.")
        return value


class WeightsForm(forms.ModelForm):
    class Meta:
        model = MatchingWeights
        fields = [
            "industry",
            "seniority",
            "products",
            "company_size",
            "topics",
            "direct_connection",
            "second_degree",
            "accept_rate",
            "shortlist_size",
            "answer_hours",
            "link_days",
        ]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in self.Meta.fields[:8]:
            value = data.get(name)
            if value is not None and value > 1000:
                self.add_error(name, "Use a weight from 0 to 1,000.")
        return data


class ConnectionsImportForm(OptionalMarkedForm):
    file = forms.FileField(
        label="Connections.csv",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    owner_email = forms.EmailField(
        label="Whose connections (email)",
        required=False,
        help_text="Leave empty for your own. An advocate's or colleague's email otherwise.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "LinkedIn: Settings → Data privacy → Get a copy of your data → Connections. "
            f"{upload_limits_text()}."
        )


class RelationshipForm(OptionalMarkedForm):
    from_email = forms.EmailField(
        label="Who knows them (email)",
        required=False,
        help_text="Leave empty for yourself; otherwise an advocate's or colleague's email.",
    )
    full_name = forms.CharField(label="Knows (name)", max_length=200)
    email = forms.EmailField(required=False)
    linkedin_url = forms.URLField(
        label="LinkedIn URL", required=False, assume_scheme="https", max_length=300
    )
    company_name = forms.CharField(label="Company", max_length=200, required=False)
    title = forms.CharField(max_length=200, required=False)
    note = forms.CharField(max_length=200, required=False, help_text="How they know each other.")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("email") and not data.get("linkedin_url"):
            raise ValidationError("Give an email or a LinkedIn URL, so the person can be merged.")
        return data
