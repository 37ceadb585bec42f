"""The manager's writes to the reward catalog: create, change, hide a reward, and its
image (redeeming and fulfilment are ``rewards.services.catalog``)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocates.models import User
from core import fragments
from core.audit import audit_record
from core.i18n import localized_names, site_language
from core.images import reencode_image
from rewards.fulfilment import provider_for
from rewards.models import Reward

REWARD_IMAGE_SIDE = 800  # px


# --- Images ---------------------------------------------------------------------------


def reward_image_process(upload: UploadedFile) -> ContentFile:
    """Decode with the avatar rules (advocates.images) and re-encode, dropping metadata."""
    return reencode_image(upload, max_side=REWARD_IMAGE_SIDE)


# --- Managing rewards -----------------------------------------------------------------

REWARD_FIELDS = (
    "name",
    "description",
    # After the plain names: each language's text as the form gave it (core.i18n).
    *localized_names("name", "description"),
    "points_cost",
    "cost_amount",
    "kind",
    "stock",
    "limit_count",
    "limit_period",
    "starts_at",
    "ends_at",
    "is_active",
    "group",
    "needs_shipping",
    "fulfilment_provider",
    "provider_products",
    "provider_campaign_id",
    "provider_denomination",
    "provider_currency",
)


def _validate_reward(reward: Reward) -> None:
    if not reward.name.strip():
        raise ValidationError({"name": _("Give the reward a name.")})
    if reward.points_cost is None or reward.points_cost <= 0:
        raise ValidationError({"points_cost": _("The cost must be at least 1 point.")})
    if reward.stock is not None and reward.stock < 0:
        raise ValidationError({"stock": _("Stock cannot be negative.")})
    if (reward.limit_count is None) != (not reward.limit_period):
        raise ValidationError(
            {"limit_count": _("Give both a number and a period for the limit, or neither.")}
        )
    if reward.limit_count is not None and reward.limit_count < 1:
        raise ValidationError({"limit_count": _("The limit must be at least 1.")})
    if reward.starts_at and reward.ends_at and reward.ends_at <= reward.starts_at:
        raise ValidationError({"ends_at": _("The end must be after the start.")})
    if reward.fulfilment_provider:
        if reward.provider_denomination is None or reward.provider_denomination <= 0:
            raise ValidationError(
                {"provider_denomination": _("Give the value the provider sends, e.g. 25.00.")}
            )
        # Checked once the provider is configured (until then nothing is ordered, and
        # the demo's reward can be edited); without them Tremendous would refuse.
        if (
            provider_for(reward.fulfilment_provider) is not None
            and not reward.provider_product_ids
            and not reward.provider_campaign_id.strip()
            and not settings.TREMENDOUS_CAMPAIGN_ID
        ):
            raise ValidationError(
                {"provider_products": _("Give the provider's product ids or a campaign id.")}
            )
        currency = (reward.provider_currency or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError({"provider_currency": _("A three-letter code, e.g. USD.")})
        reward.provider_currency = currency


def reward_create(
    *, image: UploadedFile | None = None, by: User | None = None, **fields: object
) -> Reward:
    """Create a reward from ``REWARD_FIELDS``; raises ValidationError on bad values."""
    unknown = set(fields) - set(REWARD_FIELDS)
    if unknown:
        raise TypeError(f"Unknown reward fields: {sorted(unknown)}")
    with translation.override(site_language()):  # a plain name is the site's text
        reward = Reward(**fields)
    _validate_reward(reward)
    processed = reward_image_process(image) if image else None
    with transaction.atomic():
        if processed is not None:
            reward.image.save(processed.name, processed, save=False)
        reward.save()
        if by is not None:
            audit_record(
                actor=by, action="reward.create", target=reward, detail=_audit_fields(fields)
            )
    return reward


def _audit_fields(fields: dict[str, object]) -> dict[str, object]:
    """The form's values as JSON-safe text, for the audit log."""
    return {
        name: value if isinstance(value, int | bool | None) else str(value)
        for name, value in fields.items()
    }


def reward_update(
    *, reward_id: int, image: UploadedFile | None = None, by: User | None = None, **fields: object
) -> Reward:
    """Change a reward. Stock set here replaces the count (a restock or a correction)."""
    unknown = set(fields) - set(REWARD_FIELDS)
    if unknown:
        raise TypeError(f"Unknown reward fields: {sorted(unknown)}")
    processed = reward_image_process(image) if image else None
    with transaction.atomic():
        # Locked like a redemption does, so a restock cannot overwrite a unit taken
        # between this form being read and saved.
        reward = Reward.objects.select_for_update().get(pk=reward_id)
        with translation.override(site_language()):  # a plain name is the site's text
            before = {name: getattr(reward, name) for name in fields}
            for name, value in fields.items():
                setattr(reward, name, value)
        _validate_reward(reward)
        if processed is not None:
            reward.image.save(processed.name, processed, save=False)
        reward.save()
        if by is not None:
            changed = {name: value for name, value in fields.items() if before[name] != value}
            if processed is not None:
                changed["image"] = "replaced"
            audit_record(
                actor=by, action="reward.edit", target=reward, detail=_audit_fields(changed)
            )
    return reward


def reward_deactivate(*, reward_id: int, by: User | None = None) -> bool:
    """Hide a reward from the catalog; open redemptions stay as they are."""
    with transaction.atomic():
        changed = bool(
            Reward.objects.filter(pk=reward_id, is_active=True).update(
                is_active=False, updated_at=timezone.now()
            )
        )
        if changed:
            fragments.scopes_changed(fragments.Scope.REWARDS)  # .update() sends no signal
        if changed and by is not None:
            audit_record(
                actor=by, action="reward.deactivate", target=Reward.objects.get(pk=reward_id)
            )
    return changed
