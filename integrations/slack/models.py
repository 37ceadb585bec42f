from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class SlackInstallation(models.Model):
    """Vouch's Slack app in one workspace: its bot token (encrypted) and where to post."""

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Connected")
        # Slack refused the token (revoked, uninstalled from Slack, deactivated workspace):
        # nothing is sent until a manager installs again.
        BROKEN = "broken", gettext_lazy("Needs reinstalling")

    team_id = models.CharField(max_length=32)
    team_name = models.CharField(max_length=200, blank=True)
    app_id = models.CharField(max_length=32, blank=True)
    bot_user_id = models.CharField(max_length=32, blank=True)
    scopes = models.TextField(blank=True)
    # Fernet ciphertext of the xoxb- token (integrations.slack.crypto); never shown.
    bot_token_encrypted = models.TextField()
    channel_id = models.CharField(max_length=32, blank=True)
    channel_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    broken_reason = models.CharField(max_length=200, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    # The last message Slack refused for another reason (bot not in the channel...).
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # The day the pending-reviews digest last went out: the conditional update on it
    # decides which of two beats sends today's.
    digest_sent_on = models.DateField(null=True, blank=True)
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    installed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team_id"], name="slack_one_installation_per_team"),
        ]

    def __str__(self) -> str:
        return f"Slack {self.team_name or self.team_id}"

    @property
    def active(self) -> bool:
        return self.status == self.Status.ACTIVE
