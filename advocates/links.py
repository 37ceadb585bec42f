"""The invitation link: its signed token and its absolute URL (emails build it from here)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from advocates.models import Invitation

INVITATION_SALT = "vouch.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": invitation.pk, "e": invitation.email, "n": invitation.nonce}, salt=INVITATION_SALT
    )


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse(
        "advocates:accept", kwargs={"token": invitation_token(invitation)}
    )
