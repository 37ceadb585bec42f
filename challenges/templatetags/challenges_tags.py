"""Template tags for the hub, the advocate page and the review queue."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from advocates.models import Advocate
from challenges import selectors
from challenges.models import Submission

register = template.Library()

HUB_CHALLENGES = 3


@register.inclusion_tag("challenges/partials/hub_challenges.html", takes_context=True)
def hub_challenges(context: dict[str, Any]) -> dict[str, Any]:
    """Up to three challenges open to the hub's advocate, and a link to all of them."""
    advocate: Advocate = context["advocate"]
    challenges = list(selectors.challenges_open_to(advocate)[: HUB_CHALLENGES + 1])
    return {"challenges": challenges[:HUB_CHALLENGES], "more": len(challenges) > HUB_CHALLENGES}


@register.inclusion_tag("challenges/partials/advocate_nps.html")
def advocate_nps(advocate: Advocate) -> dict[str, Any]:
    """An advocate's latest NPS answer, for the managers' advocate page."""
    return {"response": selectors.nps_latest(advocate_id=advocate.pk)}


@register.filter
def answer_rows(submission: Submission) -> list[dict[str, str]]:
    """A submission's answers as label/answer/comment rows, whatever its type stored."""
    answers = submission.answers if isinstance(submission.answers, dict) else {}
    rows = []
    for row in answers.get("questions") or []:
        if isinstance(row, dict):
            rows.append(
                {
                    "label": str(row.get("label", "")),
                    "answer": str(row.get("answer", "")),
                    "comment": str(row.get("comment", "")),
                }
            )
    if answers.get("rsvp"):
        rows.append({"label": _("RSVP"), "answer": _("Will attend"), "comment": ""})
    return rows


@register.filter
def nps_group(score: int | None) -> str:
    if score is None:
        return ""
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


@register.filter
def nps_group_label(score: int | None) -> str:
    """The NPS group of ``score`` as a person reads it ("Promoter")."""
    group = nps_group(score)
    if group == "promoter":
        return _("Promoter")
    if group == "passive":
        return _("Passive")
    return _("Detractor") if group else ""
