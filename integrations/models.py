"""The integrations' tables (one module per integration, gathered here for Django)."""

from integrations.slack.models import SlackInstallation

__all__ = ["SlackInstallation"]
