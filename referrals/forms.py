from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.csv import CsvFileError, csv_read, csv_upload_text, upload_limits_text
from core.forms import OptionalMarkedForm
from core.models import ProgramSettings
from core.roles import REPS_GROUP
from referrals.models import RejectionReason, RewardRule, Stage
from referrals.services import ReferralError, deal_amount_check


class LeadForm(OptionalMarkedForm):
    """The hub's lead form: who the advocate refers."""

    referred_name = forms.CharField(label=_("Their name"), max_length=200)
    referred_email = forms.EmailField(label=_("Their work email"))
    referred_company = forms.CharField(label=_("Company"), max_length=200, required=False)
    referred_title = forms.CharField(label=_("Title"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Anything the rep should know?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EmailReferralForm(OptionalMarkedForm):
    referred_name = forms.CharField(label=_("Colleague's name"), max_length=200)
    referred_email = forms.EmailField(label=_("Colleague's email"))
    referred_company = forms.CharField(label=_("Their company"), max_length=200, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Edit it as you like; keep your link in it so we know the lead came from you."),
    )


class LandingForm(OptionalMarkedForm):
    """The public landing page. ``code`` rides in the form as well as the URL, so the
    lead is attributed without a cookie or session; ``website`` is a honeypot."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Work email"))
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Your title"), max_length=200, required=False)
    message = forms.CharField(
        label=_("What are you looking for?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    card_code = forms.CharField(
        label=_("Referral card code"),
        max_length=8,
        required=False,
        help_text=_("Got a printed referral card? Type the code on it."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    code = forms.CharField(max_length=16, required=False, widget=forms.HiddenInput)
    via = forms.CharField(max_length=10, required=False, widget=forms.HiddenInput)
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class VerbalForm(OptionalMarkedForm):
    advocate_email = forms.EmailField(
        label=_("Advocate's email"),
        help_text=_("The customer who made the referral gets the credit."),
    )
    referred_name = forms.CharField(label=_("Referred person's name"), max_length=200)
    referred_email = forms.EmailField(label=_("Their email"))
    referred_company = forms.CharField(label=_("Company"), max_length=200, required=False)
    referred_title = forms.CharField(label=_("Title"), max_length=200, required=False)
    note = forms.CharField(
        label=_("What was said"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AdvanceForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    amount = forms.DecimalField(
        label=_("Deal amount"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    reason = forms.ChoiceField(
        label=_("Rejection reason"),
        choices=[("", "—"), *RejectionReason.choices],
        required=False,
    )

    def clean_amount(self) -> Decimal | None:
        amount = self.cleaned_data.get("amount")
        try:
            deal_amount_check(amount)
        except ReferralError as error:
            raise ValidationError(str(error)) from None
        return amount

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("stage") == Stage.REJECTED and not data.get("reason"):
            self.add_error("reason", gettext("Say why the referral is rejected."))
        return data


class RewardRuleForm(forms.ModelForm):
    """The admin's reward rule: no points field above the program's maximum points per
    event (RewardRule.won_points clamps to it anyway), a sane percent, well-formed tiers."""

    class Meta:
        model = RewardRule
        fields = [
            "name",
            "is_active",
            "kind",
            "fixed_points",
            "percent",
            "tiers",
            "cap_points",
            "qualified_points",
            "count_tiers",
            "second_generation_points",
        ]

    def _too_many(self, points: int, limit: int) -> str:
        return (
            f"{points:,} points is above the program's maximum of {limit:,} points per event "
            "(set in the program settings)."
        )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        limit = ProgramSettings.load().max_points_per_event
        for name in ("fixed_points", "qualified_points", "cap_points", "second_generation_points"):
            points = data.get(name)
            if points is not None and points > limit:
                self.add_error(name, self._too_many(points, limit))
        percent = data.get("percent")
        if percent is not None and not 0 <= percent <= 100:
            self.add_error("percent", "Give a percent from 0 to 100.")
        if "tiers" in data:
            try:
                data["tiers"] = self._tiers(data["tiers"], limit)
            except ValidationError as error:
                self.add_error("tiers", error)
        if "count_tiers" in data:
            try:
                data["count_tiers"] = self._count_tiers(data["count_tiers"])
            except ValidationError as error:
                self.add_error("count_tiers", error)
        return data

    def _count_tiers(self, tiers: object) -> list[dict[str, Any]]:
        example = 'a list like [{"min_won": 3, "multiplier": "1.5"}]'
        if tiers in (None, ""):
            return []
        if not isinstance(tiers, list):
            raise ValidationError(f"Count tiers must be {example}.")
        clean = []
        for number, tier in enumerate(tiers, start=1):
            if not isinstance(tier, dict) or set(tier) != {"min_won", "multiplier"}:
                raise ValidationError(f"Count tier {number}: each tier must be {example[7:]}.")
            min_won = tier["min_won"]
            if isinstance(min_won, bool) or not isinstance(min_won, int) or min_won < 1:
                raise ValidationError(f"Count tier {number}: min_won must be a count of 1 or more.")
            try:
                multiplier = Decimal(str(tier["multiplier"]))
            except InvalidOperation:
                multiplier = Decimal("NaN")
            if not multiplier.is_finite() or not 0 <= multiplier <= 10:
                raise ValidationError(f"Count tier {number}: multiplier must be from 0 to 10.")
            clean.append({"min_won": min_won, "multiplier": str(multiplier)})
        if len({tier["min_won"] for tier in clean}) != len(clean):
            raise ValidationError("Two count tiers start at the same count.")
        return sorted(clean, key=lambda tier: tier["min_won"])

    def _tiers(self, tiers: object, limit: int) -> list[dict[str, Any]]:
        example = 'a list like [{"min_amount": "0", "points": 100}]'
        if tiers in (None, ""):
            return []
        if not isinstance(tiers, list):
            raise ValidationError(f"Tiers must be {example}.")
        clean = []
        for number, tier in enumerate(tiers, start=1):
            if not isinstance(tier, dict) or set(tier) != {"min_amount", "points"}:
                raise ValidationError(f"Tier {number}: each tier must be {example[7:]}.")
            try:
                min_amount = Decimal(str(tier["min_amount"]))
            except InvalidOperation:
                min_amount = Decimal("NaN")
            if not min_amount.is_finite() or min_amount < 0:
                raise ValidationError(f"Tier {number}: min_amount must be an amount of 0 or more.")
            points = tier["points"]
            if isinstance(points, bool) or not isinstance(points, int) or points < 0:
                raise ValidationError(f"Tier {number}: points must be a whole number of 0 or more.")
            if points > limit:
                raise ValidationError(f"Tier {number}: {self._too_many(points, limit)}")
            clean.append({"min_amount": str(min_amount), "points": points})
        return clean


class AssignForm(forms.Form):
    rep = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label=_("Assign to"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["rep"]).queryset = (
            get_user_model()
            .objects.filter(groups__name=REPS_GROUP, is_active=True)
            .order_by("first_name", "last_name", "email")
        )


class KpiWindowForm(forms.Form):
    start = forms.DateField(
        label=_("Start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("End"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        today = timezone.now().date()
        try:
            end: date = data.get("end") or today + timedelta(days=1)
            start: date = data.get("start") or end - timedelta(days=365)
        except OverflowError:  # e.g. end=0001-01-01 with no start
            raise ValidationError(gettext("Pick dates between the years 2 and 9998.")) from None
        if start >= end:
            raise ValidationError(gettext("The start date must be before the end date."))
        data["start"], data["end"] = start, end
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    invite = forms.BooleanField(
        label=_("Email each new advocate an invitation instead of creating them directly"),
        required=False,
    )

    def __init__(self, *args: Any, columns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns = columns
        self.rows = 0
        self.fields["file"].help_text = f"{upload_limits_text()}."

    def clean_file(self) -> str:
        """The file's text, read whole here so that a file the import would refuse as a
        whole (size, encoding, header, row cap, malformed CSV, no rows) is refused before
        a job is queued; ``rows`` is its number of data rows, the progress bar's end."""
        try:
            text = csv_upload_text(self.cleaned_data["file"])
            self.rows = sum(1 for _row in csv_read(text, columns=self.columns))
        except CsvFileError as error:
            message = (
                gettext("Line %(line)s: %(error)s") % {"line": error.line, "error": error}
                if error.line
                else str(error)
            )
            raise ValidationError(message) from None
        if not self.rows:
            raise ValidationError(gettext("The file has no rows."))
        return text
