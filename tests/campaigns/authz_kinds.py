"""Authorization cases for the campaign kinds: contacts, prospects, triggers, prospect
events (managers) and the hub's referral-drive send (advocates who received the drive)."""

from __future__ import annotations

from django.utils import timezone

from tests.authz import ADVOCATES, MANAGERS, Case, World, allowed


def setup(world: World) -> None:
    from campaigns.models import Campaign, CampaignMessage

    def campaign(kind: str, **extra) -> Campaign:
        return Campaign.objects.create(
            name=f"Authz {kind}",
            kind=kind,
            subject="s",
            body="b",
            created_by=world.manager,
            **extra,
        )

    world.objects["invitation_campaign"] = campaign(Campaign.Kind.INVITATION)
    world.objects["reference_drive"] = campaign(Campaign.Kind.REFERENCE_DRIVE)
    drive = campaign(
        Campaign.Kind.REFERRAL_DRIVE, status=Campaign.Status.SENDING, suggested_message="Hi"
    )
    world.objects["referral_drive"] = drive
    # Received by ``advocate`` only: for ``other_advocate`` the drive does not exist.
    CampaignMessage.objects.create(
        campaign=drive,
        advocate=world.advocate,
        email=world.advocate.user.email,
        status=CampaignMessage.Status.SENT,
        sent_at=timezone.now(),
    )


def _pk(key: str):
    return lambda world: {"pk": world[key].pk}


# An empty upload: the form comes back with its error, nothing changes.
NO_FILE: dict = {}
RECEIVED = {"other_advocate": 404}

CASES = [
    Case(
        "campaigns:kinds_contacts",
        kwargs=_pk("invitation_campaign"),
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "campaigns:kinds_contacts",
        method="post",
        kwargs=_pk("invitation_campaign"),
        data=NO_FILE,
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "campaigns:kinds_prospects", kwargs=_pk("reference_drive"), expect=allowed(roles=MANAGERS)
    ),
    Case(
        "campaigns:kinds_prospects",
        method="post",
        kwargs=_pk("reference_drive"),
        data={"action": "pair", "max_per_advocate": "0"},  # invalid: shown again
        expect=allowed(roles=MANAGERS),
    ),
    Case("campaigns:kinds_trigger", kwargs=_pk("referral_drive"), expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:kinds_trigger",
        method="post",
        kwargs=_pk("referral_drive"),
        data={"action": "save", "trigger": "inactive"},  # invalid: no number of days
        expect=allowed(roles=MANAGERS),
    ),
    Case("console:prospect_events", expect=allowed(roles=MANAGERS)),
    Case("console:prospect_events", method="post", data=NO_FILE, expect=allowed(roles=MANAGERS)),
    # POST only: advocates get 405 for a GET, the others their usual refusal.
    Case(
        "campaigns:kinds_refer", kwargs=_pk("referral_drive"), expect=allowed(405, roles=ADVOCATES)
    ),
    Case(
        "campaigns:kinds_refer",
        method="post",
        kwargs=_pk("referral_drive"),
        data={"referred_name": ""},  # invalid: back to the hub with the error
        expect=allowed(302, roles=ADVOCATES, overrides=RECEIVED),
    ),
    Case(
        "campaigns:kinds_refer",
        method="post",
        htmx=True,
        kwargs=_pk("referral_drive"),
        data={"referred_name": ""},
        expect=allowed(roles=ADVOCATES, overrides=RECEIVED),
    ),
]
