"""Authorization cases for composing and sending campaigns, and the links in the emails."""

from __future__ import annotations

from tests.authz import MANAGERS, Case, World, allowed, everyone


def setup(world: World) -> None:
    from campaigns.models import Campaign, CampaignMessage, Segment
    from campaigns.sending import tracking

    segment = Segment.objects.create(name="Authz everyone", filters={})

    def campaign(name: str, status: str) -> Campaign:
        return Campaign.objects.create(
            name=name,
            kind=Campaign.Kind.REFERRAL_DRIVE,
            status=status,
            segment=segment,
            subject="Hi {{ first_name }}",
            body="Share {{ referral_link }}",
        )

    world.objects["draft"] = campaign("Authz draft", Campaign.Status.DRAFT)
    world.objects["sending"] = campaign("Authz sending", Campaign.Status.SENDING)
    world.objects["paused"] = campaign("Authz paused", Campaign.Status.PAUSED)
    world.objects["to_cancel"] = campaign("Authz cancel", Campaign.Status.DRAFT)
    message = CampaignMessage.objects.create(
        campaign=world.objects["sending"],
        advocate=world.advocate,
        email=world.advocate.user.email,
        status=CampaignMessage.Status.SENT,
    )
    world.objects["unsubscribe_token"] = tracking.token_make("unsubscribe", message.pk)
    world.objects["open_token"] = tracking.token_make("open", message.pk)
    world.objects["click_token"] = tracking.token_make("click", message.pk, "https://example.org/")


def _pk(key: str):
    return lambda world: {"pk": world[key].pk}


def _token(key: str):
    return lambda world: {"token": world[key]}


CASES = [
    Case("campaigns:campaign_list", expect=allowed(roles=MANAGERS)),
    Case("campaigns:campaign_new", expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:campaign_new",
        method="post",
        data={"name": ""},  # invalid: the form comes back with its errors
        expect=allowed(roles=MANAGERS),
    ),
    Case("campaigns:campaign_detail", kwargs=_pk("sending"), expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:campaign_detail",
        kwargs=_pk("sending"),
        htmx=True,
        expect=allowed(roles=MANAGERS),
    ),
    Case("campaigns:campaign_edit", kwargs=_pk("draft"), expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:campaign_edit",
        method="post",
        kwargs=_pk("draft"),
        data={"name": ""},
        expect=allowed(roles=MANAGERS),
    ),
    Case("campaigns:campaign_preview", kwargs=_pk("draft"), expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:campaign_preview",
        kwargs=_pk("draft"),
        htmx=True,
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "campaigns:campaign_start",
        method="post",
        kwargs=_pk("draft"),
        expect=allowed(302, roles=MANAGERS),
    ),
    Case(
        "campaigns:campaign_pause",
        method="post",
        kwargs=_pk("sending"),
        expect=allowed(302, roles=MANAGERS),
    ),
    Case(
        "campaigns:campaign_resume",
        method="post",
        kwargs=_pk("paused"),
        expect=allowed(302, roles=MANAGERS),
    ),
    Case(
        "campaigns:campaign_cancel",
        method="post",
        kwargs=_pk("to_cancel"),
        expect=allowed(302, roles=MANAGERS),
    ),
    # Public: the signed token is the permission; anyone holding it may use it.
    Case("campaigns:unsubscribe", kwargs=_token("unsubscribe_token"), expect=everyone(200)),
    Case(
        "campaigns:unsubscribe",
        method="post",
        kwargs=_token("unsubscribe_token"),
        expect=everyone(200),
    ),
    Case("campaigns:track_open", kwargs=_token("open_token"), expect=everyone(200)),
    Case("campaigns:track_click", kwargs=_token("click_token"), expect=everyone(302)),
]
