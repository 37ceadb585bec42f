"""The signed links: the invitation link (emails build it from here) and group invite links."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from advocates.models import CommunityGroup, Invitation

INVITATION_SALT = "vouch.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": invitation.pk, "e": invitation.email, "n": invitation.nonce}, salt=INVITATION_SALT
    )


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse(
        "advocates:accept", kwargs={"token": invitation_token(invitation)}
    )


# --- CommunityGroup invite links ---------------------------------------------------------------

GROUP_INVITE_SALT = "vouch.group-invite"
# A link is good for this long after a manager copies it from the group's page (the page
# signs a fresh one on every visit); rotating the group's code ends every link at once.
GROUP_INVITE_MAX_AGE = timedelta(days=30)


def group_invite_token(group: CommunityGroup) -> str:
    return signing.dumps({"g": group.pk, "n": group.invite_nonce}, salt=GROUP_INVITE_SALT)


def group_invite_url(group: CommunityGroup) -> str:
    return settings.SITE_URL + reverse(
        "advocates:group_invite", kwargs={"token": group_invite_token(group)}
    )
