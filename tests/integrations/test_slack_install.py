"""Installing Vouch's Slack app from the console: OAuth v2 with a state, the channel,
uninstall; the token is kept encrypted."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from core.models import AuditEntry
from integrations.slack import services
from integrations.slack.crypto import token_encrypt
from integrations.slack.models import SlackInstallation
from tests.integrations.conftest import answer, calls

PAGE = "/console/slack/"
TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"  # oauth.v2.access recording


def _start(client) -> str:
    """Click "Add to Slack": the state Slack will send back."""
    response = client.get("/console/slack/install/")
    assert response.status_code == 302
    url = urlparse(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://slack.com/oauth/v2/authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == ["2141029472.691202649728"]
    assert set(query["scope"][0].split(",")) == set(services.SCOPES)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/console/slack/oauth/callback/"]
    return query["state"][0]


def test_the_page_says_what_to_set_when_slack_is_not_configured(manager_client, db) -> None:
    page = manager_client.get(PAGE).content.decode()
    assert "Slack is not set up on this site" in page
    assert "Add to Slack" not in page


def test_installing_keeps_the_bot_token_encrypted(manager_client, manager, slack_api) -> None:
    answer(slack_api, "oauth.v2.access", "oauth.v2.access")
    state = _start(manager_client)
    response = manager_client.get(
        "/console/slack/oauth/callback/", {"code": "1234.5678", "state": state}
    )
    assert response.status_code == 302
    installation = SlackInstallation.objects.get()
    assert (installation.team_id, installation.team_name) == ("T9TK3CUKW", "Slack Softball Team")
    assert installation.bot_user_id == "U0KRQLJ9H"
    assert installation.installed_by == manager
    assert TOKEN not in installation.bot_token_encrypted
    assert services.bot_token(installation) == TOKEN
    (exchange,) = calls(slack_api, "oauth.v2.access")
    assert exchange["code"] == "1234.5678"
    assert AuditEntry.objects.filter(action="slack.install").exists()
    # The state is single use: the same callback again installs nothing more.
    again = manager_client.get(
        "/console/slack/oauth/callback/", {"code": "1234.5678", "state": state}
    )
    assert again.status_code == 302
    assert len(calls(slack_api, "oauth.v2.access")) == 1


@pytest.mark.parametrize("state", ["", "forged-state"])
def test_a_callback_with_a_bad_state_is_refused(manager_client, slack_api, state) -> None:
    answer(slack_api, "oauth.v2.access", "oauth.v2.access")
    _start(manager_client)
    response = manager_client.get(
        "/console/slack/oauth/callback/", {"code": "1234.5678", "state": state}, follow=True
    )
    assert "nothing was installed" in response.content.decode()
    assert not SlackInstallation.objects.exists()
    assert not calls(slack_api, "oauth.v2.access")


def test_another_managers_state_does_not_work(manager_client, slack_api, db) -> None:
    from tests import factories
    from tests.conftest import _client_for

    answer(slack_api, "oauth.v2.access", "oauth.v2.access")
    state = _start(_client_for(factories.ManagerFactory(email="m2@example.com")))
    manager_client.get("/console/slack/oauth/callback/", {"code": "1234.5678", "state": state})
    assert not SlackInstallation.objects.exists()


def test_a_refused_code_saves_nothing_and_says_why(manager_client, slack_api) -> None:
    answer(slack_api, "oauth.v2.access", "oauth.v2.access.invalid_code")
    state = _start(manager_client)
    response = manager_client.get(
        "/console/slack/oauth/callback/", {"code": "old", "state": state}, follow=True
    )
    assert "Slack refused the installation (invalid_code)" in response.content.decode()
    assert not SlackInstallation.objects.exists()


def test_cancelled_in_slack(manager_client, slack_api) -> None:
    state = _start(manager_client)
    response = manager_client.get(
        "/console/slack/oauth/callback/", {"error": "access_denied", "state": state}, follow=True
    )
    assert "cancelled in Slack" in response.content.decode()
    assert not SlackInstallation.objects.exists()


def test_choosing_the_channel_from_slacks_list(
    manager_client, slack_api, installation, django_assert_max_num_queries
) -> None:
    answer(slack_api, "conversations.list", "conversations.list")
    with django_assert_max_num_queries(12):
        page = manager_client.get(PAGE).content.decode()
    assert "#general" in page
    assert "#random" in page
    response = manager_client.post(
        f"/console/slack/{installation.pk}/channel/", {"channel": "C222"}
    )
    assert response.status_code == 302
    installation.refresh_from_db()
    assert (installation.channel_id, installation.channel_name) == ("C222", "random")
    # A channel the workspace does not list is refused.
    manager_client.post(f"/console/slack/{installation.pk}/channel/", {"channel": "C999999"})
    installation.refresh_from_db()
    assert installation.channel_id == "C222"


def test_disconnecting_revokes_the_token(manager_client, slack_api, installation) -> None:
    answer(slack_api, "auth.revoke", "auth.revoke")
    response = manager_client.post(f"/console/slack/{installation.pk}/uninstall/", follow=True)
    assert "disconnected from testteamnow" in response.content.decode()
    assert not SlackInstallation.objects.exists()
    assert len(calls(slack_api, "auth.revoke")) == 1
    assert AuditEntry.objects.filter(action="slack.uninstall").exists()


def test_reinstalling_mends_a_broken_installation(manager_client, slack_api, db) -> None:
    SlackInstallation.objects.create(
        team_id="T9TK3CUKW",
        bot_token_encrypted=token_encrypt("xoxb-old"),
        status=SlackInstallation.Status.BROKEN,
        broken_reason="token_revoked",
        broken_at=timezone.now(),
        installed_at=timezone.now(),
    )
    answer(slack_api, "oauth.v2.access", "oauth.v2.access")
    state = _start(manager_client)
    manager_client.get("/console/slack/oauth/callback/", {"code": "1", "state": state})
    installation = SlackInstallation.objects.get()
    assert installation.status == SlackInstallation.Status.ACTIVE
    assert installation.broken_reason == ""
    assert services.bot_token(installation) == TOKEN


def test_a_rep_cannot_install(rep_client, slack_api) -> None:
    assert rep_client.get("/console/slack/install/").status_code == 403
    assert (
        rep_client.get("/console/slack/oauth/callback/", {"code": "1", "state": "x"}).status_code
        == 403
    )
