"""Writes for the Slack integration: install (OAuth v2), channel choice, uninstall, and the
installation's health (broken token, last refused message)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator
from slack_sdk.oauth.state_store import OAuthStateStore

from core.audit import audit_record
from integrations.oauth import OAuthState
from integrations.slack import api
from integrations.slack.crypto import TokenUnreadable, token_decrypt, token_encrypt
from integrations.slack.models import SlackInstallation

Actor = AbstractBaseUser | AnonymousUser | None

# The bot's scopes (deploy/slack-app-manifest.yml lists the same).
SCOPES = [
    "chat:write",
    "commands",
    "users:read",
    "users:read.email",
    "im:write",
    "channels:read",
]
ACTIVE_CACHE_KEY = "integrations:slack:active:v1"


class SlackError(Exception):
    """A refused console action; the message is fit to show the manager."""


def configured() -> bool:
    return bool(
        settings.SLACK_CLIENT_ID and settings.SLACK_CLIENT_SECRET and settings.SLACK_SIGNING_SECRET
    )


def redirect_uri() -> str:
    return settings.SITE_URL + reverse("integrations:slack_oauth_callback")


# --- OAuth state ------------------------------------------------------------------------


class SessionStateStore(OAuthState, OAuthStateStore):
    """Slack's OAuth ``state`` (integrations.oauth), usable by slack_sdk's generator."""

    SESSION_KEY = "slack_oauth_states"


def authorize_url(*, session: Any) -> str:
    """Slack's "Add to Slack" URL with a fresh state bound to ``session``."""
    generator = AuthorizeUrlGenerator(
        client_id=settings.SLACK_CLIENT_ID, scopes=SCOPES, redirect_uri=redirect_uri()
    )
    return generator.generate(state=SessionStateStore(session).issue())


# --- Install, channel, uninstall --------------------------------------------------------


def installations_changed() -> None:
    cache.delete(ACTIVE_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(ACTIVE_CACHE_KEY))


def any_active() -> bool:
    """Whether a workspace would hear an event (cached: every referral asks)."""
    active = cache.get(ACTIVE_CACHE_KEY)
    if active is None:
        active = SlackInstallation.objects.filter(status=SlackInstallation.Status.ACTIVE).exists()
        cache.set(ACTIVE_CACHE_KEY, active, 300)
    return bool(active)


def installation_complete(*, code: str, by: Actor) -> SlackInstallation:
    """Exchange the OAuth ``code`` for the bot token (oauth.v2.access) and keep it.

    Installing again in the same workspace replaces the token and mends a broken install.
    """
    if not code:
        raise SlackError(_("Slack sent no authorization code: start again from “Add to Slack”."))
    try:
        response = api.client().oauth_v2_access(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET,
            code=code,
            redirect_uri=redirect_uri(),
        )
    except SlackApiError as error:
        raise SlackError(
            _("Slack refused the installation (%(reason)s).")
            % {"reason": api.error_code(error) or _("no reason given")}
        ) from None
    except OSError:
        raise SlackError(_("Slack could not be reached: try again in a minute.")) from None
    data = response.data if isinstance(response.data, dict) else {}
    team = data.get("team") or {}
    token = data.get("access_token") or ""
    if data.get("token_type") != "bot" or not token.startswith("xoxb-") or not team.get("id"):
        raise SlackError(_("Slack's answer had no bot token for a workspace; nothing was saved."))
    now = timezone.now()
    with transaction.atomic():
        installation, created = SlackInstallation.objects.update_or_create(
            team_id=team["id"],
            defaults={
                "team_name": (team.get("name") or "")[:200],
                "app_id": data.get("app_id") or "",
                "bot_user_id": data.get("bot_user_id") or "",
                "scopes": data.get("scope") or "",
                "bot_token_encrypted": token_encrypt(token),
                "status": SlackInstallation.Status.ACTIVE,
                "broken_reason": "",
                "broken_at": None,
                "installed_by_id": by.pk if by is not None and by.is_authenticated else None,
                "installed_at": now,
            },
        )
        audit_record(
            actor=by,
            action="slack.install" if created else "slack.reinstall",
            target=installation,
            detail={"team": installation.team_id},
        )
        installations_changed()
    return installation


def bot_token(installation: SlackInstallation) -> str:
    return token_decrypt(installation.bot_token_encrypted)


def channels_list(installation: SlackInstallation) -> list[tuple[str, str]]:
    """The workspace's public channels (id, name), for the console's channel picker."""
    try:
        response = api.client(bot_token(installation)).conversations_list(
            types="public_channel", exclude_archived=True, limit=200
        )
    except (SlackApiError, OSError) as error:
        problem = api.classify(error)
        if isinstance(problem, api.TokenRefused):
            installation_mark_broken(installation_id=installation.pk, reason=problem.error)
        return []
    channels = response.data.get("channels", []) if isinstance(response.data, dict) else []
    return sorted(
        ((c["id"], c.get("name", "")) for c in channels if c.get("id")), key=lambda c: c[1]
    )


def channel_set(
    *, installation_id: int, channel_id: str, channel_name: str, by: Actor
) -> SlackInstallation:
    with transaction.atomic():
        installation = SlackInstallation.objects.select_for_update().get(pk=installation_id)
        installation.channel_id = channel_id
        installation.channel_name = channel_name[:200]
        installation.last_error = ""
        installation.save(update_fields=["channel_id", "channel_name", "last_error", "updated_at"])
        audit_record(
            actor=by,
            action="slack.channel",
            target=installation,
            detail={"channel": channel_id, "name": channel_name},
        )
    return installation


def installation_remove(*, installation_id: int, by: Actor) -> None:
    """Forget the workspace; the token is revoked at Slack when Slack still takes it."""
    installation = SlackInstallation.objects.get(pk=installation_id)
    # Best effort: a token Slack no longer takes (or cannot reach) is as good as revoked.
    with contextlib.suppress(SlackApiError, OSError, TokenUnreadable):
        api.client(bot_token(installation)).auth_revoke()
    with transaction.atomic():
        audit_record(
            actor=by,
            action="slack.uninstall",
            target=installation,
            detail={"team": installation.team_id, "name": installation.team_name},
        )
        SlackInstallation.objects.filter(pk=installation_id).delete()
        installations_changed()


def installation_mark_broken(*, installation_id: int, reason: str) -> bool:
    """Slack refused the token: stop sending and tell the managers. True if it changed."""
    changed = SlackInstallation.objects.filter(
        pk=installation_id, status=SlackInstallation.Status.ACTIVE
    ).update(
        status=SlackInstallation.Status.BROKEN,
        broken_reason=reason[:200],
        broken_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if changed:
        installations_changed()
    return bool(changed)


def installation_error_record(*, installation_id: int, error: str) -> None:
    SlackInstallation.objects.filter(pk=installation_id).update(
        last_error=error[:300], last_error_at=timezone.now()
    )
