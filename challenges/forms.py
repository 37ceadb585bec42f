from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from advocates.models import Tag
from advocates.selectors import groups_choosable
from challenges.models import Badge, Challenge, Level
from challenges.selectors.leaderboards import Period
from challenges.services import SubmissionInput
from core.forms import OptionalMarkedForm
from core.i18n import TranslatedFieldsMixin, number
from core.models import ProgramSettings

# Stored in English in a survey's questions; shown translated (gettext at display time).
NPS_QUESTION = gettext_noop("How likely are you to recommend us to a friend or colleague?")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


class ChallengeForm(TranslatedFieldsMixin, forms.ModelForm):
    """A manager's challenge: what to do, for whom, when, and for how many points."""

    translated_fields = ("title", "description")

    points = forms.IntegerField(
        label=gettext_lazy("Points"),
        validators=[MinValueValidator(1, gettext_lazy("Points must be more than 0."))],
        help_text=gettext_lazy("Awarded when a submission is approved."),
    )
    survey_questions = forms.CharField(
        label=gettext_lazy("Survey questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One question per line; advocates answer each in writing."),
    )
    target_url = forms.URLField(
        label=gettext_lazy("Link"),
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("What to share or review, or the event page."),
    )
    include_nps = forms.BooleanField(
        label=gettext_lazy("Include the NPS question (0–10 with a comment)"),
        required=False,
        help_text=gettext_lazy("“How likely are you to recommend us to a friend or colleague?”"),
    )

    class Meta:
        model = Challenge
        fields = [
            "title",
            "description",
            "kind",
            "points",
            "starts_at",
            "ends_at",
            "audience",
            "audience_tag",
            "audience_level",
            "audience_group",
            "completion_limit",
            "auto_approve",
            "target_url",
            "event_at",
        ]
        labels = {
            "title": gettext_lazy("Title"),
            "description": gettext_lazy("Description"),
            "audience": gettext_lazy("Audience"),
            "kind": gettext_lazy("Type"),
            "starts_at": gettext_lazy("Starts"),
            "ends_at": gettext_lazy("Ends"),
            "audience_tag": gettext_lazy("Tag"),
            "audience_level": gettext_lazy("Level"),
            "audience_group": gettext_lazy("Group"),
            "completion_limit": gettext_lazy("Times one advocate may complete it"),
            "auto_approve": gettext_lazy("Approve automatically (no review)"),
            "event_at": gettext_lazy("Event date and time"),
        }
        help_texts = {
            "ends_at": gettext_lazy("Leave empty to keep it open until you archive it."),
            "description": gettext_lazy("What to do and why it matters. Advocates see this."),
            "completion_limit": gettext_lazy("How many times one advocate may complete it."),
            "auto_approve": gettext_lazy("Award points at once, without a manager's review."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "event_at": DateTimeLocalInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["audience_tag"]).queryset = Tag.objects.order_by(
            "name"
        )
        cast(
            forms.ModelChoiceField, self.fields["audience_level"]
        ).queryset = Level.objects.order_by("threshold")
        # An archived group stays choosable for the challenge that already names it.
        cast(forms.ModelChoiceField, self.fields["audience_group"]).queryset = groups_choosable(
            keep=self.instance.audience_group_id
        )
        self.fields["completion_limit"].validators.append(
            MinValueValidator(1, _("An advocate must be able to complete it at least once."))
        )
        for name in ("starts_at", "ends_at", "event_at"):
            field = cast(forms.DateTimeField, self.fields[name])
            field.input_formats = [DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        questions = self.instance.questions or []
        if not self.is_bound and questions:
            self.initial["survey_questions"] = "\n".join(
                q["label"] for q in questions if q.get("kind") == "text"
            )
            self.initial["include_nps"] = any(q.get("kind") == "nps" for q in questions)

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        limit = ProgramSettings.load().max_points_per_event
        if points > limit:
            raise ValidationError(
                _(
                    "%(points)s points is above the program's maximum of %(limit)s points per "
                    "event (set in the program settings)."
                )
                % {"points": number(points), "limit": number(limit)}
            )
        return points

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))
        audience = data.get("audience")
        if audience == Challenge.Audience.TAG and not data.get("audience_tag"):
            self.add_error("audience_tag", _("Choose the tag advocates need for this challenge."))
        if audience == Challenge.Audience.LEVEL and not data.get("audience_level"):
            self.add_error("audience_level", _("Choose the lowest level that may take part."))
        if audience == Challenge.Audience.GROUP and not data.get("audience_group"):
            self.add_error("audience_group", _("Choose the group whose members may take part."))
        if audience != Challenge.Audience.TAG:
            data["audience_tag"] = None
        if audience != Challenge.Audience.GROUP:
            data["audience_group"] = None
        if audience != Challenge.Audience.LEVEL:
            data["audience_level"] = None
        lines = [
            line.strip()
            for line in (data.get("survey_questions") or "").splitlines()
            if line.strip()
        ]
        if len({line.lower() for line in lines}) != len(lines):
            self.add_error("survey_questions", _("Each question must be different."))
        if any(len(line) > 300 for line in lines):
            self.add_error("survey_questions", _("Keep each question under 300 characters."))
        questions = [{"label": line, "kind": "text"} for line in lines]
        if data.get("include_nps"):
            questions.insert(0, {"label": NPS_QUESTION, "kind": "nps"})
        if kind == Challenge.Kind.SURVEY:
            if not questions:
                self.add_error(
                    "survey_questions",
                    _("A survey needs a question: write one or add the NPS question."),
                )
            data["questions"] = questions
        else:
            data["questions"] = []
        if kind == Challenge.Kind.EVENT and not data.get("event_at"):
            self.add_error("event_at", _("Give the event's date and time."))
        if kind != Challenge.Kind.EVENT:
            data["event_at"] = None
        return data


class ChallengeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("All")), *Challenge.Status.choices],
        required=False,
    )


class SubmissionForm(forms.Form):
    """The input a challenge asks for, built from its type."""

    def __init__(self, challenge: Challenge, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"c{challenge.pk}")
        super().__init__(*args, **kwargs)
        self.challenge = challenge
        kind = Challenge.Kind
        f = self.fields
        if challenge.kind == kind.SOCIAL_SHARE:
            f["url"] = forms.URLField(
                label=_("Link to your post"), max_length=500, assume_scheme="https"
            )
        elif challenge.kind == kind.REVIEW:
            f["url"] = forms.URLField(
                label=_("Link to your review"), max_length=500, assume_scheme="https"
            )
            f["image"] = forms.FileField(
                label=_("Screenshot (optional)"),
                required=False,
                widget=forms.ClearableFileInput(
                    attrs={"accept": "image/jpeg,image/png,image/webp"}
                ),
            )
        elif challenge.kind == kind.TESTIMONIAL:
            f["text"] = forms.CharField(
                label=_("Your answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
            )
        elif challenge.kind == kind.UPLOAD:
            f["image"] = forms.FileField(
                label=_("Your image"),
                help_text=_("JPEG, PNG or WebP."),
                widget=forms.ClearableFileInput(
                    attrs={"accept": "image/jpeg,image/png,image/webp"}
                ),
            )
        elif challenge.kind == kind.SURVEY:
            for index, question in enumerate(challenge.questions or []):
                if question.get("kind") == "nps":
                    f["nps_score"] = forms.TypedChoiceField(
                        label=_(question["label"]),
                        choices=[(str(n), str(n)) for n in range(11)],
                        coerce=int,
                        widget=forms.RadioSelect(attrs={"class": "nps-scale"}),
                        help_text=_("0 = not at all likely, 10 = extremely likely."),
                        error_messages={"required": _("Pick a score from 0 to 10.")},
                    )
                    f["nps_comment"] = forms.CharField(
                        label=_("What is the main reason for your score?"),
                        required=False,
                        max_length=2000,
                        widget=forms.Textarea(attrs={"rows": 2}),
                    )
                else:
                    f[f"q{index}"] = forms.CharField(
                        label=question["label"],
                        max_length=2000,
                        widget=forms.Textarea(attrs={"rows": 2}),
                    )
        elif challenge.kind == kind.EVENT:
            f["rsvp"] = forms.BooleanField(
                label=_("I will attend"),
                error_messages={"required": _("Tick “I will attend” to RSVP.")},
            )
        else:  # referral, reference: what they did, until those flows take over
            f["text"] = forms.CharField(
                label=_("Tell us what you did"),
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def to_input(self) -> SubmissionInput:
        data = self.cleaned_data
        rows = []
        for index, question in enumerate(self.challenge.questions or []):
            if question.get("kind") == "nps":
                rows.append(
                    {
                        "label": question["label"],
                        "answer": str(data["nps_score"]),
                        "comment": data.get("nps_comment", ""),
                    }
                )
            elif f"q{index}" in data:
                rows.append({"label": question["label"], "answer": data[f"q{index}"]})
        answers: dict[str, Any] = {}
        if rows:
            answers["questions"] = rows
        if data.get("rsvp"):
            answers["rsvp"] = True
        return SubmissionInput(
            url=data.get("url", ""),
            text=data.get("text", ""),
            image=data.get("image") or None,
            answers=answers,
            nps_score=data.get("nps_score"),
            nps_comment=data.get("nps_comment", ""),
        )


class NPSPeriodForm(forms.Form):
    start = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("From")
    )
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("To"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end must be on or after the start."))
        elif end and end >= date.max:  # the period runs to the end of that day
            self.add_error("end", _("Pick an end date before the year 9999."))
        return data

    def period(self, default: tuple[date, date]) -> tuple[date, date]:
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return default


# --- Leaderboards, levels and badges ----------------------------------------------------


class LeaderboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=Period.CHOICES, required=False)
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.all(), required=False, empty_label=gettext_lazy("Everyone")
    )


class LevelForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=50, label=gettext_lazy("Name"))
    threshold = forms.IntegerField(
        min_value=0, max_value=1_000_000_000, label=gettext_lazy("From points")
    )


class BadgeForm(OptionalMarkedForm):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    icon = forms.CharField(max_length=8, required=False, initial="🏅", label=gettext_lazy("Icon"))
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    description = forms.CharField(max_length=255, required=False, label=gettext_lazy("Description"))
    rule = forms.ChoiceField(choices=Badge.Rule.choices, label=gettext_lazy("Rule"))
    count = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=1,
        label=gettext_lazy("N"),
        help_text=gettext_lazy("For counting rules."),
    )


# can_delete: a row ticked "Delete" is not validated (its fields may be left empty).
LevelFormSet = forms.formset_factory(
    LevelForm, extra=1, max_num=30, validate_max=True, can_delete=True
)
BadgeFormSet = forms.formset_factory(
    BadgeForm, extra=1, max_num=60, validate_max=True, can_delete=True
)
