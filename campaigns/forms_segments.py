"""The segment editor's form: a typed filter over advocates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from advocates.models import Advocate, Company, Product, Tag
from advocates.selectors import industries as advocate_industries
from campaigns.segments import NPS_BANDS, SegmentFilterError, SegmentFilters

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
MAX_COMPANIES = 200


def _tri(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _tri_initial(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class SegmentFilterForm(forms.Form):
    """Every criterion is optional; an empty form selects every active advocate."""

    companies = forms.CharField(
        label="Companies",
        required=False,
        max_length=4000,
        help_text="Company names or domains, separated by commas (e.g. acme.com, Globex).",
    )
    industries = forms.MultipleChoiceField(
        label="Industry", required=False, widget=forms.CheckboxSelectMultiple
    )
    seniorities = forms.MultipleChoiceField(
        label="Seniority",
        required=False,
        choices=Advocate.Seniority.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.ModelMultipleChoiceField(
        label="Experience tags (any of)",
        queryset=Tag.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.ModelMultipleChoiceField(
        label="Products (any of)",
        queryset=Product.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    level = forms.ModelChoiceField(
        label="Level at least",
        queryset=None,
        required=False,
        empty_label="Any level",
    )
    nps = forms.MultipleChoiceField(
        label="NPS (latest answer)",
        required=False,
        choices=[(key, label) for key, (label, _q) in NPS_BANDS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    ams_min = forms.IntegerField(label="AMS from", required=False, min_value=0, max_value=100)
    ams_max = forms.IntegerField(label="AMS to", required=False, min_value=0, max_value=100)
    active_after = forms.DateField(
        label="Last active on or after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    active_before = forms.DateField(
        label="Last active before",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Includes advocates who have not done anything yet.",
    )
    has_referred = forms.ChoiceField(label="Has referred someone", required=False, choices=YES_NO)
    has_reference = forms.ChoiceField(
        label="Has given a reference call", required=False, choices=YES_NO
    )
    reference_available = forms.ChoiceField(
        label="Available for a reference call now",
        required=False,
        choices=YES_NO,
        help_text="Opted in, not on a break, no request waiting, under their own cap.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from challenges.models import Level

        self.fields["level"].queryset = Level.objects.order_by("threshold")
        # The advocate's own industry (what the filter reads); ~20 distinct values, read
        # through the industry index (advocates.selectors.industries).
        industries = sorted(advocate_industries())
        self.fields["industries"].choices = [(name, name) for name in industries]
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
            raise forms.ValidationError(f"List at most {MAX_COMPANIES} companies.")
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
            raise forms.ValidationError(f"No company is called {', '.join(unknown)}.")
        self._company_ids = tuple(sorted(set(ids)))
        return raw

    # Fields that are not part of the filter (the segment's name): their errors do not
    # stop the filter from being read, so the live count works before a name is typed.
    NOT_FILTER = frozenset({"name", "description"})
    spec: SegmentFilters | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
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
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)

    field_order = ["name", "description"]
