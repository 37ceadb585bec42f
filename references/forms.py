from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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

# The scoring weights' labels, as the model's field names read (ModelForms show them).
_SCORING_LABELS = {
    "industry": _("Industry"),
    "seniority": _("Similar seniority / title"),
    "products": _("Per shared product"),
    "company_size": _("Company size"),
    "topics": _("Per experience tag answering a topic"),
    "interests": _("Per experience tag answering a prospect's interest"),
    "direct_connection": _("Knows the prospect"),
    "second_degree": _("2nd-degree path"),
    "accept_rate": _("Recent willingness (× accept rate)"),
}


class DateInput(forms.DateInput):
    input_type = "date"


class ReferenceRequestForm(OptionalMarkedForm):
    prospect_name = forms.CharField(label=_("Prospect's name"), max_length=200)
    prospect_email = forms.EmailField(label=_("Prospect's email"))
    prospect_title = forms.CharField(label=_("Their title"), max_length=200, required=False)
    prospect_seniority = forms.ChoiceField(
        label=_("Their seniority"),
        choices=[("", _("Guess from the title")), *Advocate.Seniority.choices],
        required=False,
    )
    prospect_company = forms.CharField(label=_("Company"), max_length=200)
    prospect_industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    prospect_company_size = forms.ChoiceField(
        label=_("Company size"),
        choices=[("", _("Unknown")), *Company.SizeBand.choices],
        required=False,
    )
    opportunity_name = forms.CharField(label=_("Opportunity"), max_length=200)
    # Required: a rep asks for a reference on an opportunity their CRM already values,
    # and the amount is what "revenue influenced by references" adds up.
    opportunity_amount = forms.DecimalField(
        label=_("Amount"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("The opportunity's value in dollars, as in your CRM."),
    )
    opportunity_stage = forms.ChoiceField(label=_("Stage"), choices=ReferenceRequest.Stage.choices)
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Products"),
        help_text=_("Products the prospect is evaluating."),
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("What the prospect cares about"),
        help_text=_("Matched against advocates' experience tags."),
    )
    call_type = forms.ChoiceField(label=_("Call type"), choices=ReferenceRequest.CallType.choices)
    needed_by = forms.DateField(label=_("Needed by"), widget=DateInput)
    notes = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )

    def clean_needed_by(self):
        value = self.cleaned_data["needed_by"]
        if value < timezone.localdate():
            raise ValidationError(gettext("Pick a date from today on."))
        return value


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=300, required=False, widget=forms.TextInput
    )


class FeedbackForm(OptionalMarkedForm):
    rating = forms.TypedChoiceField(
        label=_("How useful was the call?"),
        choices=[(5, _("5 — very")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 — not at all"))],
        coerce=int,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Anything to add?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("won", _("Won")), ("lost", _("Lost"))],
        widget=forms.RadioSelect,
    )
    won_amount = forms.DecimalField(
        label=_("Amount won"), min_value=0, max_digits=12, decimal_places=2, required=False
    )
    closed_on = forms.DateField(label=_("Closed on"), widget=DateInput, initial=timezone.localdate)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("outcome") == "won" and data.get("won_amount") is None:
            self.add_error("won_amount", gettext("Enter the amount won."))
        closed_on = data.get("closed_on")
        if closed_on and closed_on > timezone.localdate():
            self.add_error("closed_on", gettext("The close date cannot be in the future."))
        return data


class PauseForm(forms.Form):
    until = forms.DateField(label=_("No calls until"), widget=DateInput, required=False)

    def clean_until(self):
        value = self.cleaned_data.get("until")
        if value and value < timezone.localdate():
            raise ValidationError(gettext("Pick a date from today on."))
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
        labels = {
            **_SCORING_LABELS,
            "shortlist_size": _("Advocates shown to the prospect"),
            "answer_hours": _("Hours an advocate has to answer"),
            "link_days": _("Days the prospect's link works"),
            "dispute_days": _("Days to dispute a call the rep confirmed"),
        }
        help_texts = {
            "dispute_days": _(
                "A call booked in Vouch counts when the advocate and the prospect both "
                "confirm it, or when the rep does and nobody says otherwise within these days."
            ),
        }

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in self.Meta.fields[:9]:
            value = data.get(name)
            if value is not None and value > 1000:
                self.add_error(name, gettext("Use a weight from 0 to 1,000."))
        return data


class IndustryWeightsForm(forms.ModelForm):
    """An industry's scoring weights (the service checks them again)."""

    class Meta:
        model = IndustryWeights
        fields = ["for_industry", *ScoringWeights.SCORING_FIELDS]
        labels = {"for_industry": _("Industry"), **_SCORING_LABELS}
        help_texts = {
            "for_industry": _("Requests whose prospect is in this industry (any capitalisation).")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ScoringWeights.SCORING_FIELDS:
            self.fields[name].error_messages["min_value"] = gettext("Weights cannot be negative.")


class DriveForm(forms.Form):
    name = forms.CharField(label=_("Drive name"), max_length=200)
    requests = forms.ModelMultipleChoiceField(
        label=_("Requests to offer"),
        queryset=ReferenceRequest.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one open request to offer.")},
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
        label=_("Whose connections (email)"),
        required=False,
        help_text=_("Leave empty for your own. An advocate's or colleague's email otherwise."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "LinkedIn: Settings → Data privacy → Get a copy of your data → Connections. %(limits)s."
        ) % {"limits": upload_limits_text()}


class RelationshipForm(OptionalMarkedForm):
    from_email = forms.EmailField(
        label=_("Who knows them (email)"),
        required=False,
        help_text=_("Leave empty for yourself; otherwise an advocate's or colleague's email."),
    )
    full_name = forms.CharField(label=_("Knows (name)"), max_length=200)
    email = forms.EmailField(label=_("Email"), required=False)
    linkedin_url = forms.URLField(
        label=_("LinkedIn URL"), required=False, assume_scheme="https", max_length=300
    )
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"), max_length=200, required=False, help_text=_("How they know each other.")
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("email") and not data.get("linkedin_url"):
            raise ValidationError(
                gettext("Give an email or a LinkedIn URL, so the person can be merged.")
            )
        return data


class PersonInterestsForm(OptionalMarkedForm):
    interests = forms.CharField(
        label=_("Interests"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("data privacy; ROI; migration")}),
        help_text=_(
            "What they care about, separated by ; or commas. Matching favours "
            "advocates whose experience answers them."
        ),
    )

    def clean_interests(self) -> list[str]:
        try:
            names = interests_parse(self.cleaned_data["interests"], separators=";,")
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if len(names) > MAX_INTERESTS:
            raise ValidationError(gettext("Up to %(count)d interests.") % {"count": MAX_INTERESTS})
        return names


class GraphSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, company or title"), required=False, max_length=200)
    interest = forms.CharField(label=_("Interest"), required=False, max_length=100)


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
    default_error_messages = {"invalid": _("Enter a date and a time, such as 2027-03-14 10:00.")}
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
        kwargs.setdefault("label", _("Timezone"))
        super().__init__(choices=zone_choices, **kwargs)


def _https(value: str) -> str:
    if value and not value.startswith("https://"):
        raise ValidationError(gettext("Use a secure link that starts with https://."))
    return value


class OfferForm(forms.Form):
    """The advocate's times (three or more), or the booking page they already use."""

    time_zone = TimeZoneField(help_text=_("The times below are in this timezone."))
    slot_1 = WallTimeField(label=_("Time 1"), required=False)
    slot_2 = WallTimeField(label=_("Time 2"), required=False)
    slot_3 = WallTimeField(label=_("Time 3"), required=False)
    slot_4 = WallTimeField(label=_("Time 4"), required=False)
    slot_5 = WallTimeField(label=_("Time 5"), required=False)
    booking_url = forms.URLField(
        label=_("Or: your booking page"),
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text=_(
            "A Calendly or similar page you already use (https). The prospect books "
            "there; then enter the time they booked here, for the invitation and reminders."
        ),
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        choices=[(30, _("30 minutes")), (45, _("45 minutes")), (60, _("1 hour"))],
        initial=30,
    )
    video = forms.ChoiceField(
        label=_("Video"), choices=Meeting.Video.choices, initial=Meeting.Video.LINK, required=False
    )
    video_url = forms.URLField(
        label=_("Video link"),
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text=_("Your Zoom, Teams or Meet link (https)."),
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
                gettext("Offer at least three times, or link the booking page you already use.")
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

    when = WallTimeField(label=_("Date and time"))
    time_zone = TimeZoneField()


class ProspectZoneForm(forms.Form):
    """The timezone the prospect reads the times in (their browser's, with JavaScript)."""

    tz = TimeZoneField(label=_("Show times in"), required=False)


class DisputeForm(OptionalMarkedForm):
    held = forms.TypedChoiceField(
        coerce=lambda value: value == "yes",
        label=_("Held"),
        choices=[
            ("yes", _("The call took place: count it")),
            ("no", _("It did not: do not count it")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note for the audit log"), required=False, max_length=300)
