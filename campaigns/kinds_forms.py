from __future__ import annotations

from django import forms

from campaigns.models import Campaign


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class PairForm(forms.Form):
    max_per_advocate = forms.IntegerField(
        label="Prospects per advocate, at most",
        min_value=1,
        max_value=10,
        initial=1,
        help_text="Each advocate also keeps within their own reference-call cap.",
    )


class TriggerForm(forms.Form):
    trigger = forms.ChoiceField(choices=Campaign.Trigger.choices, required=False)
    trigger_level = forms.ModelChoiceField(
        label="Level", queryset=None, required=False, empty_label="Choose a level"
    )
    trigger_inactive_days = forms.IntegerField(
        label="Days without activity", min_value=1, max_value=730, required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        from challenges.models import Level

        super().__init__(*args, **kwargs)
        self.fields["trigger_level"].queryset = Level.objects.order_by("threshold")

    def clean(self) -> dict:
        data = super().clean()
        trigger = data.get("trigger")
        if trigger == Campaign.Trigger.LEVEL_REACHED and not data.get("trigger_level"):
            self.add_error("trigger_level", "Choose the level that fires the campaign.")
        if trigger == Campaign.Trigger.INACTIVE and not data.get("trigger_inactive_days"):
            self.add_error("trigger_inactive_days", "Say after how many days.")
        return data


class DriveReferralForm(forms.Form):
    referred_name = forms.CharField(label="Colleague's name", max_length=200)
    referred_email = forms.EmailField(label="Colleague's email")
    referred_company = forms.CharField(label="Their company", max_length=200, required=False)
    body = forms.CharField(
        label="Message", max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )
