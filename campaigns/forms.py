"""The campaigns app's forms: compose a campaign, edit a segment's filter, the kinds'
uploads, pairing and trigger settings, and the hub's referral-drive send."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from advocates.models import Advocate, CommunityGroup, Company, Product, Tag
from advocates.selectors import industries as advocate_industries
from campaigns import kinds, placeholders
from campaigns.models import Campaign, Segment
from campaigns.segments import NPS_BANDS, SegmentFilterError, SegmentFilters
from challenges.models import Challenge, Level
from core.forms import OptionalMarkedForm
from core.i18n import TranslatedFieldsMixin, other_languages
from core.renderers import PYTHON_RENDERER

# --- Compose a campaign ---------------------------------------------------------------

SEND_CHOICES = [
    ("draft", gettext_lazy("Save as a draft")),
    ("now", gettext_lazy("Send now")),
    ("schedule", gettext_lazy("Schedule for later")),
]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CampaignForm(TranslatedFieldsMixin, forms.ModelForm):
    translated_fields = ("subject", "body", "suggested_message")

    send = forms.ChoiceField(
        label=gettext_lazy("When"), choices=SEND_CHOICES, initial="draft", widget=forms.RadioSelect
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
            "name": gettext_lazy("Name"),
            "kind": gettext_lazy("Kind"),
            "segment": gettext_lazy("Send to segment"),
            "challenge": gettext_lazy("Challenge to announce"),
            "subject": gettext_lazy("Subject"),
            "body": gettext_lazy("Body"),
            "suggested_message": gettext_lazy("Suggested referral message"),
            "scheduled_at": gettext_lazy("Send at"),
        }
        help_texts = {
            "kind": gettext_lazy("What the campaign asks for."),
            "challenge": gettext_lazy("Challenge announcements only."),
            "suggested_message": gettext_lazy(
                "Referral drives only: the message advocates can edit and "
                "send to a colleague from their hub in one click."
            ),
            "scheduled_at": gettext_lazy("Only when scheduling (server time, UTC)."),
        }
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "suggested_message": forms.Textarea(attrs={"rows": 5}),
            "scheduled_at": DateTimeInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "name", "id"
        )
        cast(forms.ModelChoiceField, self.fields["challenge"]).queryset = Challenge.objects.filter(
            status=Challenge.Status.PUBLISHED
        ).order_by("title", "id")
        kind = self.data.get("kind") or self.initial.get("kind") or Campaign.Kind.CHALLENGE
        allowed = ", ".join(
            f"{{{{ {name} }}}}" for name in sorted(placeholders.allowed_placeholders(kind))
        )
        self.fields["body"].help_text = _(
            "Plain text; a blank line starts a paragraph and links become clickable. "
            "Placeholders: %(allowed)s. An unsubscribe link is added to every email."
        ) % {"allowed": allowed}
        self.fields["subject"].help_text = _("Placeholders work here too, e.g. %(example)s.") % {
            "example": "{{ first_name }}"
        }
        if self.instance.pk and self.instance.status == Campaign.Status.SCHEDULED:
            self.initial.setdefault("send", "schedule")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind") or Campaign.Kind.CHALLENGE
        for name in ("subject", "body", "suggested_message"):
            for version in (name, *(f"{name}_{code}" for code, _name in other_languages())):
                errors = placeholders.placeholder_errors(data.get(version) or "", kind=kind)
                if errors:
                    self.add_error(version, errors)
        if not self.errors:
            about_challenge = (
                set(kinds.challenge_problems(data.get("challenge")))
                if kind == Campaign.Kind.CHALLENGE
                else set()
            )
            for problem in kinds.kind_problems(
                kind=kind,
                body=data.get("body", ""),
                subject=data.get("subject", ""),
                challenge=data.get("challenge"),
            ):
                field = "challenge" if problem in about_challenge else "body"
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
            self.add_error("segment", _("Choose who gets this campaign."))
        if send == "schedule":
            at = data.get("scheduled_at")
            if at is None:
                self.add_error("scheduled_at", _("Give the date and time to send at."))
            elif at <= timezone.now():
                self.add_error("scheduled_at", _("Pick a time in the future."))
        elif "scheduled_at" in data:
            data["scheduled_at"] = None
        return data

    def clean_suggested_message(self) -> str:
        value = self.cleaned_data.get("suggested_message", "")
        if len(value) > 5000:
            raise ValidationError(_("Keep it under 5,000 characters."))
        return value


# --- Segments -------------------------------------------------------------------------

YES_NO = [
    ("", pgettext_lazy("any value", "Any")),
    ("yes", gettext_lazy("Yes")),
    ("no", gettext_lazy("No")),
]
MAX_COMPANIES = 200


def _tri(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _tri_initial(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class SegmentFilterForm(forms.Form):
    """Every criterion is optional; an empty form selects every active advocate."""

    # Its labels, inputs and some 35 checkboxes written in Python (core.renderers): the
    # live count re-renders the whole form.
    default_renderer = PYTHON_RENDERER

    companies = forms.CharField(
        label=gettext_lazy("Companies"),
        required=False,
        max_length=4000,
        help_text=gettext_lazy(
            "Company names or domains, separated by commas (e.g. acme.com, Globex)."
        ),
    )
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Industry"), required=False, widget=forms.CheckboxSelectMultiple
    )
    seniorities = forms.MultipleChoiceField(
        label=gettext_lazy("Seniority"),
        required=False,
        choices=Advocate.Seniority.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Experience tags (any of)"),
        queryset=Tag.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Products (any of)"),
        queryset=Product.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    groups = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Groups (a member of any)"),
        queryset=CommunityGroup.objects.order_by("name", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    level: forms.ModelChoiceField[Level] = forms.ModelChoiceField(
        label=gettext_lazy("Level at least"),
        queryset=Level.objects.order_by("threshold"),
        required=False,
        empty_label=gettext_lazy("Any level"),
    )
    nps = forms.MultipleChoiceField(
        label=gettext_lazy("NPS (latest answer)"),
        required=False,
        choices=[(key, label) for key, (label, _q) in NPS_BANDS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    ams_min = forms.IntegerField(
        label=gettext_lazy("AMS from"), required=False, min_value=0, max_value=100
    )
    ams_max = forms.IntegerField(
        label=gettext_lazy("AMS to"), required=False, min_value=0, max_value=100
    )
    active_after = forms.DateField(
        label=gettext_lazy("Last active on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    active_before = forms.DateField(
        label=gettext_lazy("Last active before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Includes advocates who have not done anything yet."),
    )
    has_referred = forms.ChoiceField(
        label=gettext_lazy("Has referred someone"), required=False, choices=YES_NO
    )
    has_reference = forms.ChoiceField(
        label=gettext_lazy("Has given a reference call"), required=False, choices=YES_NO
    )
    reference_available = forms.ChoiceField(
        label=gettext_lazy("Available for a reference call now"),
        required=False,
        choices=YES_NO,
        help_text=gettext_lazy(
            "Opted in, not on a break, no request waiting, under their own cap."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The advocate's own industry (what the filter reads); ~20 distinct values, read
        # through the industry index (advocates.selectors.industries).
        industries = sorted(advocate_industries())
        cast(forms.ChoiceField, self.fields["industries"]).choices = [
            (name, name) for name in industries
        ]
        # The model choices read once, as a list: a ModelChoiceField otherwise reads
        # its queryset through a server-side cursor on PostgreSQL (three round trips
        # for a few rows) each time it is rendered.
        for name in ("tags", "products", "groups", "level"):
            field = cast(forms.ModelChoiceField, self.fields[name])
            choice = field.iterator(field).choice
            choices: list[tuple[Any, Any]] = []
            if field.empty_label is not None:
                choices.append(("", field.empty_label))
            choices += [choice(obj) for obj in cast(QuerySet, field.queryset)]
            field.choices = choices
        self._company_ids: tuple[int, ...] = ()

    @classmethod
    def initial_from(cls, spec: SegmentFilters) -> dict[str, Any]:
        """Initial values for editing a stored filter."""
        names = list(
            Company.objects.filter(pk__in=spec.companies)
            .order_by("name")
            .values_list("domain", "name")
        )
        return {
            "companies": ", ".join(domain or name for domain, name in names),
            "industries": list(spec.industries),
            "seniorities": list(spec.seniorities),
            "tags": list(spec.tags),
            "products": list(spec.products),
            "groups": list(spec.groups),
            "level": spec.level,
            "nps": list(spec.nps),
            "ams_min": spec.ams_min,
            "ams_max": spec.ams_max,
            "active_after": spec.active_after,
            "active_before": spec.active_before,
            "has_referred": _tri_initial(spec.has_referred),
            "has_reference": _tri_initial(spec.has_reference),
            "reference_available": _tri_initial(spec.reference_available),
        }

    def clean_companies(self) -> str:
        raw = self.cleaned_data["companies"]
        wanted = [part.strip() for part in raw.split(",") if part.strip()]
        if len(wanted) > MAX_COMPANIES:
            raise forms.ValidationError(
                _("List at most %(count)s companies.") % {"count": MAX_COMPANIES}
            )
        ids: set[int] = set()
        unknown = []
        if wanted:
            # One query for the whole list, matched back case-insensitively.
            match = Q()
            for item in wanted:
                match |= Q(domain__iexact=item) | Q(name__iexact=item)
            found: dict[str, set[int]] = {}
            for pk, domain, name in Company.objects.filter(match).values_list(
                "pk", "domain", "name"
            ):
                for key in (domain.casefold(), name.casefold()):
                    found.setdefault(key, set()).add(pk)
            for item in wanted:
                if item.casefold() in found:
                    ids |= found[item.casefold()]
                else:
                    unknown.append(item)
        if unknown:
            raise forms.ValidationError(
                _("No company is called %(names)s.") % {"names": ", ".join(unknown)}
            )
        self._company_ids = tuple(sorted(set(ids)))
        return raw

    # Fields that are not part of the filter (the segment's name): their errors do not
    # stop the filter from being read, so the live count works before a name is typed.
    NOT_FILTER = frozenset({"name", "description"})
    spec: SegmentFilters | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if set(self.errors) - self.NOT_FILTER:
            return data
        try:
            self.spec = self._spec(data)
        except SegmentFilterError as error:
            raise forms.ValidationError(str(error)) from None
        return data

    def _spec(self, data: dict[str, Any]) -> SegmentFilters:
        spec = SegmentFilters(
            companies=self._company_ids,
            industries=tuple(sorted(data.get("industries") or [])),
            seniorities=tuple(sorted(data.get("seniorities") or [])),
            tags=tuple(sorted(tag.pk for tag in data.get("tags") or [])),
            products=tuple(sorted(product.pk for product in data.get("products") or [])),
            groups=tuple(sorted(group.pk for group in data.get("groups") or [])),
            level=data["level"].pk if data.get("level") else None,
            nps=tuple(sorted(data.get("nps") or [])),
            ams_min=data.get("ams_min"),
            ams_max=data.get("ams_max"),
            active_after=data.get("active_after"),
            active_before=data.get("active_before"),
            has_referred=_tri(data.get("has_referred", "")),
            has_reference=_tri(data.get("has_reference", "")),
            reference_available=_tri(data.get("reference_available", "")),
        )
        spec.validate()
        return spec


class SegmentForm(SegmentFilterForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)

    field_order = ["name", "description"]


# --- Campaign kinds ----------------------------------------------------------------------


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class PairForm(forms.Form):
    max_per_advocate = forms.IntegerField(
        label=gettext_lazy("Prospects per advocate, at most"),
        min_value=1,
        max_value=10,
        initial=1,
        help_text=gettext_lazy("Each advocate also keeps within their own reference-call cap."),
    )


class TriggerForm(forms.Form):
    trigger = forms.ChoiceField(
        label=gettext_lazy("Trigger"), choices=Campaign.Trigger.choices, required=False
    )
    trigger_level: forms.ModelChoiceField[Level] = forms.ModelChoiceField(
        label=gettext_lazy("Level"),
        queryset=Level.objects.order_by("threshold"),
        required=False,
        empty_label=gettext_lazy("Choose a level"),
    )
    trigger_inactive_days = forms.IntegerField(
        label=gettext_lazy("Days without activity"), min_value=1, max_value=730, required=False
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        trigger = data.get("trigger")
        if trigger == Campaign.Trigger.LEVEL_REACHED and not data.get("trigger_level"):
            self.add_error("trigger_level", _("Choose the level that fires the campaign."))
        if trigger == Campaign.Trigger.INACTIVE and not data.get("trigger_inactive_days"):
            self.add_error("trigger_inactive_days", _("Say after how many days."))
        return data


class DriveReferralForm(OptionalMarkedForm):
    referred_name = forms.CharField(label=gettext_lazy("Colleague's name"), max_length=200)
    referred_email = forms.EmailField(label=gettext_lazy("Colleague's email"))
    referred_company = forms.CharField(
        label=gettext_lazy("Their company"), max_length=200, required=False
    )
    body = forms.CharField(
        label=gettext_lazy("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )


# --- The suppression list ---------------------------------------------------------------


class SuppressionAddForm(OptionalMarkedForm):
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    detail = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Why, for the next manager."),
    )
