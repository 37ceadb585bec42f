from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.selectors import groups_choosable
from core.forms import OptionalMarkedMixin
from core.i18n import TranslatedFieldsMixin, localized_names
from core.images import decode_image
from rewards.fulfilment import provider_for
from rewards.models import Redemption, Reward


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class RewardForm(OptionalMarkedMixin, TranslatedFieldsMixin, forms.ModelForm):
    # OptionalMarkedMixin first: it marks the other languages' fields too, after they
    # are made from the plain ones (marking first would copy the marker's markup).
    translated_fields = ("name", "description")
    image_upload = forms.FileField(
        label=gettext_lazy("Image"),
        required=False,
        help_text=gettext_lazy(
            "JPEG, PNG or WebP, up to 5 MB. Re-encoded; leave empty to keep the current one."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    class Meta:
        model = Reward
        fields = [
            "name",
            "description",
            "kind",
            "points_cost",
            "cost_amount",
            "stock",
            "limit_count",
            "limit_period",
            "starts_at",
            "ends_at",
            "needs_shipping",
            "is_active",
            "group",
            "fulfilment_provider",
            "provider_denomination",
            "provider_currency",
            "provider_products",
            "provider_campaign_id",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
        }
        # The model's verbose names and help texts, as the page shows them, translated.
        labels = {
            "name": gettext_lazy("Name"),
            "description": gettext_lazy("Description"),
            "kind": gettext_lazy("Kind"),
            "points_cost": gettext_lazy("Points"),
            "cost_amount": gettext_lazy("Cost to the company"),
            "stock": gettext_lazy("Stock"),
            "limit_count": gettext_lazy("Limit per advocate"),
            "limit_period": gettext_lazy("Limit period"),
            "starts_at": gettext_lazy("Available from"),
            "ends_at": gettext_lazy("Available until"),
            "needs_shipping": gettext_lazy("Needs shipping"),
            "is_active": gettext_lazy("Active"),
            "group": gettext_lazy("Only for the group"),
            "fulfilment_provider": gettext_lazy("Fulfilled by"),
            "provider_denomination": gettext_lazy("Value"),
            "provider_currency": gettext_lazy("Currency"),
            "provider_products": gettext_lazy("Provider product ids"),
            "provider_campaign_id": gettext_lazy("Provider campaign id"),
        }
        help_texts = {
            "starts_at": gettext_lazy("Empty: available now (UTC)."),
            "ends_at": gettext_lazy("Empty: no end date (UTC)."),
            "limit_count": gettext_lazy("Times one advocate may redeem it. Empty: no limit."),
            "limit_period": gettext_lazy("Calendar week, month, quarter, year, or in total."),
            "group": gettext_lazy(
                "Only its members see it and may redeem it. Empty: every advocate."
            ),
            "stock": gettext_lazy("Units left. Leave empty for unlimited."),
            "needs_shipping": gettext_lazy(
                "Ask the advocate for a shipping address when redeeming."
            ),
            "provider_products": gettext_lazy(
                "Comma-separated Tremendous product ids the advocate may choose from."
            ),
            "provider_campaign_id": gettext_lazy(
                "A Tremendous campaign (its products, message and look). Empty: the "
                "site's default campaign, if any."
            ),
            "provider_denomination": gettext_lazy("What the provider sends, e.g. 25.00."),
            "cost_amount": gettext_lazy(
                "What one redemption costs the company in money (for the ROI page). Optional."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.IntegerField, self.fields["points_cost"]).min_value = 1
        self.fields["points_cost"].widget.attrs["min"] = 1
        self.fields["limit_count"].widget.attrs["min"] = 1
        cast(forms.ChoiceField, self.fields["fulfilment_provider"]).choices = [
            ("", _("A manager (by hand)")),
            ("tremendous", "Tremendous"),
        ]
        cast(forms.ChoiceField, self.fields["limit_period"]).choices = [
            ("", "—"),
            *Reward.LimitPeriod.choices,
        ]
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = groups_choosable(
            keep=self.instance.group_id
        )
        self.fields["provider_denomination"].widget.attrs.update({"min": "0.01", "step": "0.01"})
        self.fields["cost_amount"].widget.attrs.update({"min": "0", "step": "0.01"})
        self.fields["cost_amount"].validators.append(MinValueValidator(Decimal(0)))
        self.fields["provider_currency"].widget.attrs.update(
            {"maxlength": 3, "size": 3, "autocapitalize": "characters"}
        )

    def clean_image_upload(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("image_upload")
        if upload:
            decode_image(upload, max_bytes=settings.AVATAR_MAX_BYTES)  # raises a clear error
            upload.seek(0)
        return upload

    def clean_points_cost(self) -> int:
        cost = self.cleaned_data["points_cost"]
        if cost is None or cost < 1:
            raise ValidationError(_("The cost must be at least 1 point."))
        return cost

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        count, period = data.get("limit_count"), data.get("limit_period")
        if count is not None and count < 1:
            self.add_error("limit_count", _("The limit must be at least 1."))
        elif (count is None) != (not period):
            self.add_error("limit_count", _("Give both a number and a period, or neither."))
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))
        if data.get("fulfilment_provider"):
            value = data.get("provider_denomination")
            if value is None or value <= 0:
                self.add_error("provider_denomination", _("Give the value to send, e.g. 25.00."))
            if (
                provider_for(data["fulfilment_provider"]) is not None
                and not data.get("provider_products", "").strip()
                and not data.get("provider_campaign_id")
                and not settings.TREMENDOUS_CAMPAIGN_ID
            ):
                self.add_error("provider_products", _("Give product ids or a campaign id."))
        return data

    def _post_clean(self) -> None:
        # Validation lives in the form's clean() and in rewards.services.catalog; the model's
        # full_clean would report the same constraints a second time, less clearly.
        pass

    def reward_fields(self) -> dict:
        names = [*self.Meta.fields, *localized_names(*self.translated_fields)]
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class RedeemForm(forms.Form):
    """The confirmation step. ``token`` is a one-time key: a double submit redeems once."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Sent only by the "Yes, redeem again" form shown beside a recent redemption.
    again = forms.BooleanField(required=False, widget=forms.HiddenInput)
    shipping_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200, required=False)
    shipping_address = forms.CharField(
        label=gettext_lazy("Shipping address"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
        help_text=gettext_lazy("Street, city, postal code and country."),
    )
    shipping_phone = forms.CharField(
        label=gettext_lazy("Phone (for the courier)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, reward: Reward, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.reward = reward
        if reward.needs_shipping:
            self.fields["shipping_name"].required = True
            self.fields["shipping_address"].required = True
            self.fields["shipping_name"].widget.attrs["autocomplete"] = "name"
        else:
            for name in ("shipping_name", "shipping_address", "shipping_phone"):
                del self.fields[name]

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        try:
            uuid.UUID(token)
        except ValueError:
            raise ValidationError(
                _("This confirmation has expired. Open the reward again.")
            ) from None
        return token


class FulfilmentFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Open (requested and approved)")), *Redemption.Status.choices],
    )


class FulfilForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note for the advocate"),
        max_length=1000,
        required=False,
        help_text=gettext_lazy(
            "A tracking number, or the gift-card code. Only this advocate sees it."
        ),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255, required=False)


class CatalogFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All kinds")), *Reward.Kind.choices],
    )
