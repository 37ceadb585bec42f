from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.urls import reverse

from advocates.models import Advocate
from referrals import selectors, services
from referrals.services import rewards

register = template.Library()

_STAGE_BADGES = {
    "submitted": "",
    "qualified": "badge--brand",
    "opportunity": "badge--brand",
    "won": "badge--ok",
    "lost": "badge--warn",
    "rejected": "badge--bad",
}


@register.filter
def stage_badge(stage: str) -> str:
    return _STAGE_BADGES.get(stage, "")


@register.filter
def percent(value: float | None) -> str:
    """0.1234 -> "12.3%" (KPI fractions)."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%".replace(".0%", "%")


@register.filter
def money(amount: Decimal | None) -> str:
    """12500 -> "12,500"; None -> "—" (deal amounts, goals, costs)."""
    return "—" if amount is None else rewards.money(Decimal(amount))


@register.filter
def times(multiplier: Decimal) -> str:
    """Decimal("1.50") -> "×1.5" (a count tier's multiplier)."""
    return f"×{Decimal(multiplier).normalize():f}"


@register.inclusion_tag("referrals/partials/hub_panel.html")
def referral_hub_panel(advocate: Advocate) -> dict:
    """The hub's slot: my link and my latest referrals (two queries)."""
    link = services.referral_link_for(advocate_id=advocate.pk)
    latest = list(
        selectors.referrals_for_advocate(advocate_id=advocate.pk).prefetch_related(None)[:3]
    )
    return {
        "link": link,
        "url": settings.SITE_URL + reverse("referrals:landing", kwargs={"code": link.code}),
        "latest": latest,
    }


@register.filter
def get_item(mapping: dict, key: str) -> object:
    """``d|get_item:"2-10"``: dict keys the template language cannot spell."""
    return mapping.get(key)


@register.inclusion_tag("referrals/partials/chain.html")
def referral_chain(advocate: Advocate, *, own: bool = False) -> dict:
    """An advocate's page: who brought them in, whom they brought in (two queries)."""
    return {"chain": selectors.chain_for_advocate(advocate), "own": own}
