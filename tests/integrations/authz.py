"""Authorization cases for the Slack pages: the console's are managers' only; the two
endpoints Slack calls take no session (their signature is checked, tests/integrations)."""

from __future__ import annotations

from django.utils import timezone

from tests.authz import MANAGERS, STAFF, Case, World, allowed, everyone


def setup(world: World) -> None:
    from integrations.slack.crypto import token_encrypt
    from integrations.slack.models import SlackInstallation

    # Broken: the pages make no call to Slack for it.
    world.objects["slack_installation"] = SlackInstallation.objects.create(
        team_id="T9TK3CUKW",
        team_name="Authz workspace",
        bot_token_encrypted=token_encrypt("xoxb-authz"),
        status=SlackInstallation.Status.BROKEN,
        broken_reason="invalid_auth",
        installed_at=timezone.now(),
    )

    from integrations.crm.models import CrmConnection, CrmContact, CrmDeal, CrmOwner, SyncRun
    from integrations.crm.tokens import BOX

    # Broken too: no page calls the CRM for it.
    crm = CrmConnection.objects.create(
        provider="hubspot",
        account_id="62515",
        access_token_encrypted=BOX.encrypt("authz-token"),
        status=CrmConnection.Status.BROKEN,
    )
    world.objects["crm"] = crm
    world.objects["crm_run"] = SyncRun.objects.create(connection=crm, trigger="manual")
    owner = CrmOwner.objects.create(
        connection=crm, external_id="41", email=world.rep.email, user=world.rep
    )
    # A contact the rep owns in the CRM: theirs (and the manager's) to invite, not other_rep's.
    world.objects["crm_contact"] = CrmContact.objects.create(
        connection=crm, external_id="51", email="authz-contact@example.com", owner=owner
    )
    world.objects["crm_deal"] = CrmDeal.objects.create(
        connection=crm, external_id="61", name="Authz deal", owner=owner
    )


def _installation(world: World) -> dict:
    return {"pk": world["slack_installation"].pk}


MANAGER_ONLY = allowed(roles=MANAGERS)
MANAGER_REDIRECT = allowed(302, roles=MANAGERS)

CASES = [
    Case("integrations:slack", expect=MANAGER_ONLY),
    Case("integrations:slack", method="post", expect=allowed(405, roles=MANAGERS)),
    # Not configured in the tests: back to the Slack page with a message.
    Case("integrations:slack_install", expect=MANAGER_REDIRECT),
    # No state: refused, back to the Slack page.
    Case("integrations:slack_oauth_callback", expect=MANAGER_REDIRECT),
    Case(
        "integrations:slack_channel",
        method="post",
        kwargs=_installation,
        data={"channel": "bad"},
        expect=MANAGER_REDIRECT,
    ),
    Case("integrations:slack_channel", kwargs=_installation, expect=allowed(405, roles=MANAGERS)),
    Case(
        "integrations:slack_uninstall",
        method="post",
        kwargs={"pk": 999999},
        expect=allowed(404, roles=MANAGERS),
    ),
    Case("integrations:slack_uninstall", kwargs=_installation, expect=allowed(405, roles=MANAGERS)),
    # CRM: the console page and its actions are managers'; contacts and the record's
    # reference link are reps' and managers'.
    Case("integrations:crm", expect=MANAGER_ONLY),
    # Not configured in the tests: back to the CRM page with a message.
    Case("integrations:crm_connect", kwargs={"provider": "hubspot"}, expect=MANAGER_REDIRECT),
    Case(
        "integrations:crm_connect",
        kwargs={"provider": "pipedrive"},
        expect=allowed(404, roles=MANAGERS),
    ),
    # No state: refused, back to the CRM page.
    Case("integrations:crm_callback", kwargs={"provider": "salesforce"}, expect=MANAGER_REDIRECT),
    Case("integrations:crm_connect_jwt", method="post", expect=MANAGER_REDIRECT),
    Case("integrations:crm_connect_jwt", expect=allowed(405, roles=MANAGERS)),
    # Broken connection: "connect again first", back to the page.
    Case(
        "integrations:crm_sync_now",
        method="post",
        kwargs=lambda w: {"pk": w["crm"].pk},
        expect=MANAGER_REDIRECT,
    ),
    Case(
        "integrations:crm_sync_now",
        kwargs=lambda w: {"pk": w["crm"].pk},
        expect=allowed(405, roles=MANAGERS),
    ),
    Case(
        "integrations:crm_stage_map",
        method="post",
        kwargs=lambda w: {"pk": w["crm"].pk},
        data={"lines": "Contract Sent = opportunity"},
        expect=MANAGER_REDIRECT,
    ),
    Case(
        "integrations:crm_stage_map",
        kwargs=lambda w: {"pk": w["crm"].pk},
        expect=allowed(405, roles=MANAGERS),
    ),
    Case(
        "integrations:crm_disconnect",
        method="post",
        kwargs={"pk": 999999},
        expect=allowed(404, roles=MANAGERS),
    ),
    Case(
        "integrations:crm_disconnect",
        kwargs=lambda w: {"pk": w["crm"].pk},
        expect=allowed(405, roles=MANAGERS),
    ),
    Case(
        "integrations:crm_run",
        kwargs=lambda w: {"pk": w["crm"].pk, "run_pk": w["crm_run"].pk},
        expect=MANAGER_ONLY,
    ),
    Case(
        "integrations:crm_run",
        kwargs=lambda w: {"pk": 999999, "run_pk": w["crm_run"].pk},
        expect=allowed(404, roles=MANAGERS),
    ),
    Case("integrations:crm_candidates", expect=allowed(roles=STAFF)),
    Case(
        "integrations:crm_candidate_invite",
        method="post",
        kwargs=lambda w: {"pk": w["crm_contact"].pk},
        # Invited (302) by its owner rep and a manager; another rep cannot see it.
        expect=allowed(302, roles=("rep", "manager"), overrides={"other_rep": 404}),
    ),
    Case(
        "integrations:crm_candidate_invite",
        kwargs=lambda w: {"pk": w["crm_contact"].pk},
        expect=allowed(405, roles=STAFF),
    ),
    Case(
        "integrations:crm_reference",
        kwargs={"provider": "hubspot", "external_id": "61"},
        expect=allowed(roles=STAFF),
    ),
    Case(
        "integrations:crm_reference",
        kwargs={"provider": "nocrm", "external_id": "61"},
        expect=allowed(404, roles=STAFF),
    ),
    # Signed by Slack, no session: 503 while the Slack settings are empty.
    Case("integrations:slack_commands", method="post", expect=everyone(503)),
    Case("integrations:slack_commands", expect=everyone(405)),
    Case("integrations:slack_interactivity", method="post", expect=everyone(503)),
    Case("integrations:slack_interactivity", expect=everyone(405)),
]
