from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from advocates.graph import MAX_INTERESTS, interests_parse
from advocates.models import Advocate, Company, Product, Tag
from core.csv import upload_limits_text
from core.forms import OptionalMarkedForm
from core.timezones import zone_choices
from references.models import (
    IndustryWeights,
    MatchingWeights,
    Meeting,
    ReferenceRequest,
    ScoringWeights,
)
from references.services import Offer


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
            "interests",
            "direct_connection",
            "second_degree",
            "accept_rate",
            "shortlist_size",
            "answer_hours",
            "link_days",
            "dispute_days",
        ]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in self.Meta.fields[:9]:
            value = data.get(name)
            if value is not None and value > 1000:
                self.add_error(name, "Use a weight from 0 to 1,000.")
        return data


class IndustryWeightsForm(forms.ModelForm):
    """An industry's scoring weights (the service checks them again)."""

    class Meta:
        model = IndustryWeights
        fields = ["for_industry", *ScoringWeights.SCORING_FIELDS]
        help_texts = {
            "for_industry": "Requests whose prospect is in this industry (any capitalisation)."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ScoringWeights.SCORING_FIELDS:
            self.fields[name].error_messages["min_value"] = "Weights cannot be negative."


class DriveForm(forms.Form):
    name = forms.CharField(label="Drive name", max_length=200)
    requests = forms.ModelMultipleChoiceField(
        label="Requests to offer",
        queryset=ReferenceRequest.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one open request to offer."},
    )

    def __init__(self, *args: Any, offerable: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["requests"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = offerable


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


class PersonInterestsForm(OptionalMarkedForm):
    interests = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "data privacy; ROI; migration"}),
        help_text="What they care about, separated by ; or commas. Matching favours "
        "advocates whose experience answers them.",
    )

    def clean_interests(self) -> list[str]:
        try:
            names = interests_parse(self.cleaned_data["interests"], separators=";,")
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if len(names) > MAX_INTERESTS:
            raise ValidationError(f"Up to {MAX_INTERESTS} interests.")
        return names


class GraphSearchForm(forms.Form):
    q = forms.CharField(label="Name, company or title", required=False, max_length=200)
    interest = forms.CharField(label="Interest", required=False, max_length=100)


# --- Scheduling the call ------------------------------------------------------------------


class WallTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class WallTimeField(forms.Field):
    """A local date and time with no timezone of its own: read in the form's timezone.

    Django's DateTimeField would attach the server's timezone (and refuse DST gaps
    in *that* zone); the services convert it in the person's own (core.timezones).
    """

    widget = WallTimeInput
    default_error_messages = {"invalid": "Enter a date and a time, such as 2027-03-14 10:00."}
    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")

    def to_python(self, value: Any) -> datetime | None:
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value or "").strip()
        if not text:
            return None
        for fmt in self.FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Timezone")
        super().__init__(choices=zone_choices, **kwargs)


def _https(value: str) -> str:
    if value and not value.startswith("https://"):
        raise ValidationError("Use a secure link that starts with https://.")
    return value


class OfferForm(forms.Form):
    """The advocate's times (three or more), or the booking page they already use."""

    time_zone = TimeZoneField(help_text="The times below are in this timezone.")
    slot_1 = WallTimeField(label="Time 1", required=False)
    slot_2 = WallTimeField(label="Time 2", required=False)
    slot_3 = WallTimeField(label="Time 3", required=False)
    slot_4 = WallTimeField(label="Time 4", required=False)
    slot_5 = WallTimeField(label="Time 5", required=False)
    booking_url = forms.URLField(
        label="Or: your booking page",
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text="A Calendly or similar page you already use (https). The prospect books "
        "there; then enter the time they booked here, for the invitation and reminders.",
    )
    duration_minutes = forms.TypedChoiceField(
        label="Length",
        coerce=int,
        choices=[(30, "30 minutes"), (45, "45 minutes"), (60, "1 hour")],
        initial=30,
    )
    video = forms.ChoiceField(
        label="Video", choices=Meeting.Video.choices, initial=Meeting.Video.LINK, required=False
    )
    video_url = forms.URLField(
        label="Video link",
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text="Your Zoom, Teams or Meet link (https).",
    )

    SLOTS = ("slot_1", "slot_2", "slot_3", "slot_4", "slot_5")

    def __init__(self, *args: Any, zoom: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not zoom:
            del self.fields["video"]

    def clean_booking_url(self) -> str:
        return _https(self.cleaned_data.get("booking_url", ""))

    def clean_video_url(self) -> str:
        return _https(self.cleaned_data.get("video_url", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        slots = [data[name] for name in self.SLOTS if data.get(name)]
        if not slots and not data.get("booking_url"):
            raise ValidationError(
                "Offer at least three times, or link the booking page you already use."
            )
        data["slots"] = tuple(slots)
        return data

    def offer(self) -> Offer:
        data = self.cleaned_data
        return Offer(
            time_zone=data["time_zone"],
            slots=data["slots"],
            booking_url=data.get("booking_url", ""),
            video=data.get("video") or Meeting.Video.LINK,
            video_url=data.get("video_url", ""),
            duration_minutes=data["duration_minutes"],
        )


class MeetingTimeForm(forms.Form):
    """The advocate or the rep enters the agreed time (after a booking page) or a new one."""

    when = WallTimeField(label="Date and time")
    time_zone = TimeZoneField()


class ProspectZoneForm(forms.Form):
    """The timezone the prospect reads the times in (their browser's, with JavaScript)."""

    tz = TimeZoneField(label="Show times in", required=False)


class DisputeForm(OptionalMarkedForm):
    held = forms.TypedChoiceField(
        coerce=lambda value: value == "yes",
        choices=[("yes", "The call took place: count it"), ("no", "It did not: do not count it")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="Note for the audit log", required=False, max_length=300)
