"""The campaign compose form: content, audience, and when to send."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import placeholders
from campaigns.models import Campaign, Segment

SEND_CHOICES = [
    ("draft", "Save as a draft"),
    ("now", "Send now"),
    ("schedule", "Schedule for later"),
]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CampaignForm(forms.ModelForm):
    send = forms.ChoiceField(
        label="When", choices=SEND_CHOICES, initial="draft", widget=forms.RadioSelect
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "kind",
            "segment",
            "challenge",
            "subject",
            "body",
            "suggested_message",
            "scheduled_at",
        ]
        labels = {
            "segment": "Send to segment",
            "challenge": "Challenge to announce",
            "suggested_message": "Suggested referral message",
            "scheduled_at": "Send at",
        }
        help_texts = {
            "kind": "What the campaign asks for.",
            "challenge": "Challenge announcements only.",
            "suggested_message": "Referral drives only: the message advocates can edit and "
            "send to a colleague from their hub in one click.",
            "scheduled_at": "Only when scheduling (server time, UTC).",
        }
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "suggested_message": forms.Textarea(attrs={"rows": 5}),
            "scheduled_at": DateTimeInput(),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from challenges.models import Challenge

        self.fields["segment"].queryset = Segment.objects.order_by("name", "id")
        self.fields["challenge"].queryset = Challenge.objects.filter(
            status=Challenge.Status.PUBLISHED
        ).order_by("title", "id")
        kind = self.data.get("kind") or self.initial.get("kind") or Campaign.Kind.CHALLENGE
        allowed = ", ".join(
            "{{ %s }}" % name for name in sorted(placeholders.allowed_placeholders(kind))
        )
        self.fields["body"].help_text = (
            f"Plain text; a blank line starts a paragraph and links become clickable. "
            f"Placeholders: {allowed}. An unsubscribe link is added to every email."
        )
        self.fields["subject"].help_text = "Placeholders work here too, e.g. {{ first_name }}."
        if self.instance.pk and self.instance.status == Campaign.Status.SCHEDULED:
            self.initial.setdefault("send", "schedule")

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind") or Campaign.Kind.CHALLENGE
        for name in ("subject", "body", "suggested_message"):
            errors = placeholders.placeholder_errors(data.get(name, "") or "", kind=kind)
            if errors:
                self.add_error(name, errors)
        from campaigns import kinds

        kind_problems = getattr(kinds, "kind_problems", None)
        if kind_problems is not None and not self.errors:
            for problem in kind_problems(
                kind=kind,
                body=data.get("body", ""),
                subject=data.get("subject", ""),
                challenge=data.get("challenge"),
            ):
                field = "challenge" if "challenge" in problem.lower() else "body"
                self.add_error(field, problem)
        send = data.get("send")
        if kind != Campaign.Kind.CHALLENGE:
            data["challenge"] = None
        if (
            send in ("now", "schedule")
            and kind
            in (
                Campaign.Kind.CHALLENGE,
                Campaign.Kind.REFERRAL_DRIVE,
            )
            and not data.get("segment")
        ):
            self.add_error("segment", "Choose who gets this campaign.")
        if send == "schedule":
            at = data.get("scheduled_at")
            if at is None:
                self.add_error("scheduled_at", "Give the date and time to send at.")
            elif at <= timezone.now():
                self.add_error("scheduled_at", "Pick a time in the future.")
        elif "scheduled_at" in data:
            data["scheduled_at"] = None
        return data

    def clean_suggested_message(self) -> str:
        value = self.cleaned_data.get("suggested_message", "")
        if len(value) > 5000:
            raise ValidationError("Keep it under 5,000 characters.")
        return value
