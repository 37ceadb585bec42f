from __future__ import annotations

from django import template

from advocates.models import Advocate
from references import selectors
from references.forms import DeclineForm

register = template.Library()


@register.inclusion_tag("references/partials/hub_card.html")
def references_hub(advocate: Advocate) -> dict:
    """The hub card: reference requests waiting for my answer, with accept / decline, and
    the prospects reference drives suggest to me."""
    return {
        "pending": list(selectors.pending_asks(advocate)),
        "suggestions": selectors.drive_suggestions(advocate),
        "decline_form": DeclineForm(),
        "next": "hub",
    }
