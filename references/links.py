"""The prospect's links (the choice page and the feedback page): signed tokens and URLs.

Emails build their links from here; ``services.request_from_token`` reads them back.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from references.models import ReferenceRequest

CHOICE_SALT = "vouch.reference.prospect-choice"
FEEDBACK_SALT = "vouch.reference.prospect-feedback"


def prospect_token(request: ReferenceRequest, *, purpose: str = CHOICE_SALT) -> str:
    return signing.dumps({"r": request.pk, "n": request.link_nonce}, salt=purpose)


def prospect_url(request: ReferenceRequest) -> str:
    return settings.SITE_URL + reverse(
        "references:prospect", kwargs={"pk": request.pk, "token": prospect_token(request)}
    )


def prospect_feedback_url(request: ReferenceRequest) -> str:
    token = prospect_token(request, purpose=FEEDBACK_SALT)
    return settings.SITE_URL + reverse(
        "references:prospect_feedback", kwargs={"pk": request.pk, "token": token}
    )
