"""Single-tenant branding: the program's name, logo and colour, applied everywhere.

The colour a manager picks is used as a background (buttons, bars, the selected tab);
the other colours the pages need are derived from it here so that text stays readable
whatever is picked (WCAG 2.x contrast of at least 4.5:1 for normal text):

- ``ink``: the text colour on the brand colour, white or near-black;
- ``strong``: a darker shade for hover states and text on the soft tint;
- ``soft`` / ``line``: light tints for backgrounds and borders;
- ``text``: the brand colour itself when it is readable as link text on the page
  background, else ``strong``.

The pages read them as CSS custom properties from ``/brand.css`` (never an inline
``style`` attribute: the Content-Security-Policy forbids inline styles); emails read
them as plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.i18n import number
from core.images import reencode_image
from core.models import (
    MAX_DEAL_AMOUNT_CEILING,
    MAX_POINTS_PER_EVENT_CEILING,
    PROGRAM_SETTINGS_CACHE_KEY,
    ProgramSettings,
)

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
NEAR_BLACK = "#111827"  # the pages' own ink colour (--ink)
BLACK = "#000000"
PAGE_BG = "#f7f7fb"  # --bg: the darkest light surface links sit on
MIN_CONTRAST = 4.5
LOGO_MAX_SIDE = 400  # px; the header shows it 28 px high, emails 40 px (2x for sharp screens)

RGB = tuple[int, int, int]


def parse_hex(value: str) -> RGB:
    if not HEX_COLOUR.match(value or ""):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def luminance(value: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in parse_hex(value))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, 1.0 to 21.0."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, weight_of_b: float) -> str:
    ra, rb = parse_hex(a), parse_hex(b)
    return to_hex(
        tuple(round(x + (y - x) * weight_of_b) for x, y in zip(ra, rb, strict=True))  # type: ignore[arg-type]
    )


def ink_on(background: str) -> str:
    """White or near-black text on ``background``, always at least 4.5:1.

    White when it reaches 4.5:1; else the pages' near-black; for the few mid-tones where
    that falls just short (pure red, for one), black, which always reaches it there.
    """
    for candidate in (WHITE, NEAR_BLACK):
        if contrast(background, candidate) >= MIN_CONTRAST:
            return candidate
    return BLACK


def _darken_until(colour: str, *, against: tuple[str, ...], at_least: float) -> str:
    """``colour`` mixed with black, in 5% steps from ``at_least``, until it reaches 4.5:1
    against every colour of ``against``."""
    for step in range(round(at_least * 20), 21):
        candidate = mix(colour, BLACK, step / 20)
        if all(contrast(candidate, other) >= MIN_CONTRAST for other in against):
            return candidate
    return BLACK


@dataclass(frozen=True)
class Palette:
    brand: str
    ink: str
    strong: str
    soft: str
    line: str
    text: str
    gradient_end: str

    def css(self) -> str:
        return (
            ":root{"
            f"--brand:{self.brand};--brand-ink:{self.ink};--brand-strong:{self.strong};"
            f"--brand-soft:{self.soft};--brand-line:{self.line};--brand-text:{self.text};"
            f"--brand-gradient-end:{self.gradient_end}"
            "}\n"
        )


def palette(colour: str) -> Palette:
    """Every colour the pages derive from the brand colour (see the module docstring)."""
    brand = colour.lower()
    soft = mix(brand, WHITE, 0.9)
    ink = ink_on(brand)
    # Hover background behind white text and text on the soft tint: visibly darker than
    # the brand colour (at least 15%) and readable on the tint.
    strong = _darken_until(brand, against=(soft, WHITE, PAGE_BG), at_least=0.15)
    text = _darken_until(brand, against=(WHITE, PAGE_BG), at_least=0)
    # The hero card's gradient must keep its text readable from end to end: towards
    # darker behind white text, towards lighter behind dark text.
    if ink == WHITE:
        gradient_end = _darken_until(brand, against=(WHITE,), at_least=0.2)
    else:
        gradient_end = mix(brand, WHITE, 0.25)
    return Palette(
        brand=brand,
        ink=ink,
        strong=strong,
        soft=soft,
        line=mix(brand, WHITE, 0.7),
        text=text,
        gradient_end=gradient_end,
    )


def logo_url(program: ProgramSettings, *, absolute: bool = False) -> str:
    """The uploaded logo's URL ("" when there is none); absolute for emails."""
    if not program.logo:
        return ""
    url = program.logo.url
    if absolute and not url.startswith(("http://", "https://")):
        url = f"{settings.SITE_URL}/{url.lstrip('/')}"
    return url


def email_context() -> dict[str, Any]:
    """What ``templates/emails/base.html`` needs: the name, logo (absolute) and colours."""
    program = ProgramSettings.load()
    colours = palette(program.primary_color)
    return {
        "program_name": program.display_name,
        "program_logo_url": logo_url(program, absolute=True),
        "brand_color": colours.brand,
        "brand_ink": colours.ink,
        "brand_text": colours.text,
    }


# --- Writes ----------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "name",
    "primary_color",
    "fatigue_cap_per_week",
    "max_deal_amount",
    "max_points_per_event",
    "accepted_answer_points",
)


def program_settings_update(
    *,
    actor: Any,
    name: str,
    primary_color: str,
    fatigue_cap_per_week: int,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
    max_deal_amount: Decimal | None = None,
    max_points_per_event: int | None = None,
    accepted_answer_points: int | None = None,
) -> ProgramSettings:
    """Save the program settings and audit what changed: all or nothing.

    A new logo is decoded and re-encoded (raster only, no metadata, size and pixel
    limits) before anything is written, so a bad file raises ValidationError and
    changes nothing. The two reward limits stay as they are when not given. Returns the
    saved row.
    """
    colour = (primary_color or "").strip()
    if not HEX_COLOUR.match(colour):
        raise ValidationError({"primary_color": _("Use a hex colour such as #4338ca.")})
    if not 0 <= fatigue_cap_per_week <= 50:
        raise ValidationError({"fatigue_cap_per_week": _("Choose between 0 and 50 emails.")})
    new_values: dict[str, Any] = {
        "name": (name or "").strip(),
        "primary_color": colour.lower(),
        "fatigue_cap_per_week": fatigue_cap_per_week,
    }
    if max_deal_amount is not None:
        if not (max_deal_amount.is_finite() and 1 <= max_deal_amount <= MAX_DEAL_AMOUNT_CEILING):
            raise ValidationError(
                {
                    "max_deal_amount": _("Choose between 1 and %(most)s.")
                    % {"most": number(MAX_DEAL_AMOUNT_CEILING, 2)}
                }
            )
        new_values["max_deal_amount"] = max_deal_amount.quantize(Decimal("0.01"))
    if max_points_per_event is not None:
        if not 1 <= max_points_per_event <= MAX_POINTS_PER_EVENT_CEILING:
            raise ValidationError(
                {
                    "max_points_per_event": _("Choose between 1 and %(most)s.")
                    % {"most": number(MAX_POINTS_PER_EVENT_CEILING)}
                }
            )
        new_values["max_points_per_event"] = max_points_per_event
    if accepted_answer_points is not None:
        if not 0 <= accepted_answer_points <= MAX_POINTS_PER_EVENT_CEILING:
            raise ValidationError(
                {
                    "accepted_answer_points": _("Choose between 0 and %(most)s.")
                    % {"most": number(MAX_POINTS_PER_EVENT_CEILING)}
                }
            )
        new_values["accepted_answer_points"] = accepted_answer_points
    encoded = reencode_image(logo, max_side=LOGO_MAX_SIDE) if logo is not None else None
    written: str | None = None
    with transaction.atomic():
        ProgramSettings.load()  # the row exists from here on
        program = ProgramSettings.objects.select_for_update().get(pk=1)
        storage = program.logo.storage
        old_logo = program.logo.name if program.logo else ""
        changed: dict[str, dict[str, Any]] = {}
        for field, value in new_values.items():
            if getattr(program, field) != value:
                changed[field] = {"from": _plain(getattr(program, field)), "to": _plain(value)}
                setattr(program, field, value)
        try:
            if encoded is not None:
                program.logo.save(encoded.name, encoded, save=False)
                written = program.logo.name
                changed["logo"] = {"from": old_logo, "to": written}
            elif remove_logo and old_logo:
                program.logo = ""
                changed["logo"] = {"from": old_logo, "to": ""}
            if changed:
                program.updated_by = actor
                program.save()
                audit_record(actor=actor, action="settings.change", target=program, detail=changed)
        except Exception:
            if written:
                storage.delete(written)
            raise
        # Also after commit: a request between save() and commit may have cached the old row.
        transaction.on_commit(lambda: cache.delete(PROGRAM_SETTINGS_CACHE_KEY))
        if "logo" in changed and old_logo:
            transaction.on_commit(lambda: storage.delete(old_logo))
    return program


def _plain(value: Any) -> Any:
    """A value the audit log's JSON can hold (a Decimal as its exact text)."""
    return str(value) if isinstance(value, Decimal) else value


def stamp(moment: datetime | None) -> str:
    return str(int(moment.timestamp() * 1_000_000)) if moment else "0"


def brand_version(program: ProgramSettings) -> str:
    """The ``v`` of the brand stylesheet's URL: changes whenever the settings are saved."""
    return stamp(program.updated_at)
