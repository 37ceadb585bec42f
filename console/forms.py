"""Forms of the console: the AMS weights."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console import ams


class AmsWeightsForm(forms.Form):
    """One number per weight, cap and component setting (see console.ams)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for activity in ams.ACTIVITIES:
            low, high = ams.LIMITS[activity.key]
            self.fields[activity.key] = forms.IntegerField(
                label=_("%(activity)s: points each") % {"activity": activity.label},
                min_value=low,
                max_value=high,
            )
            low, high = ams.LIMITS[f"{activity.key}_cap"]
            self.fields[f"{activity.key}_cap"] = forms.IntegerField(
                label=_("%(activity)s: counted at most") % {"activity": activity.label},
                min_value=low,
                max_value=high,
            )
        for key, label in (
            ("private_share", gettext_lazy("Private part of the score (of 100)")),
            ("private_full", gettext_lazy("Private points for a full private part")),
            ("public_full", gettext_lazy("Public points for a full public part")),
        ):
            low, high = ams.LIMITS[key]
            self.fields[key] = forms.IntegerField(label=label, min_value=low, max_value=high)

    def rows(self) -> list[dict[str, Any]]:
        """The activity rows of the form, for a table: label, why, points and cap fields."""
        return [
            {
                "activity": activity,
                "points": self[activity.key],
                "cap": self[f"{activity.key}_cap"],
            }
            for activity in ams.ACTIVITIES
        ]


class RevenueGoalForm(forms.Form):
    """A manager's referral revenue goal for one quarter (last year to next year)."""

    quarter = forms.ChoiceField(label=gettext_lazy("Quarter"))
    amount = forms.DecimalField(
        label=gettext_lazy("Goal (won revenue)"), min_value=0, max_digits=14, decimal_places=2
    )

    def __init__(self, *args: Any, quarters: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["quarter"]).choices = [
            (str(quarter), quarter.label) for quarter in quarters
        ]


class AmsIndustryWeightsForm(AmsWeightsForm):
    """An industry's own AMS weights: the industry's name, then the same numbers."""

    def __init__(self, *args: Any, program: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields = {
            "for_industry": forms.CharField(
                label=gettext_lazy("Industry"),
                max_length=100,
                help_text=gettext_lazy("As advocates' profiles name it (case does not matter)."),
                widget=forms.TextInput(attrs={"list": "known-industries"}),
            ),
            **self.fields,
        }

    def rows(self) -> list[dict[str, Any]]:
        """As the program's rows, with the program's own figures beside each."""
        return [
            {
                **row,
                "program_points": self.program[row["activity"].key],
                "program_cap": self.program[f"{row['activity'].key}_cap"],
            }
            for row in super().rows()
        ]
