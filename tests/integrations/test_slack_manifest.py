"""The Slack app manifest operators paste (deploy/) names what Vouch asks and serves."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml
from django.urls import reverse

from integrations.slack import services

MANIFEST = Path(__file__).parents[2] / "deploy" / "slack-app-manifest.yml"


def test_the_manifest_matches_the_scopes_and_urls() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == services.SCOPES
    (redirect,) = manifest["oauth_config"]["redirect_urls"]
    assert urlparse(redirect).path == reverse("integrations:slack_oauth_callback")
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/vouch"
    assert urlparse(command["url"]).path == reverse("integrations:slack_commands")
    interactivity = manifest["settings"]["interactivity"]["request_url"]
    assert urlparse(interactivity).path == reverse("integrations:slack_interactivity")
