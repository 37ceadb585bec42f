"""Authorization cases for the Slack pages: the console's are managers' only; the two
endpoints Slack calls take no session (their signature is checked, tests/integrations)."""

from __future__ import annotations

from django.utils import timezone

from tests.authz import MANAGERS, Case, World, allowed, everyone


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
    # Signed by Slack, no session: 503 while the Slack settings are empty.
    Case("integrations:slack_commands", method="post", expect=everyone(503)),
    Case("integrations:slack_commands", expect=everyone(405)),
    Case("integrations:slack_interactivity", method="post", expect=everyone(503)),
    Case("integrations:slack_interactivity", expect=everyone(405)),
]
