"""Slack's pages: the console's Slack page and its OAuth install (managers), and the two
endpoints Slack itself calls (signed by SLACK_SIGNING_SECRET, no session)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.roles import manager_required, public
from integrations.slack import commands, services
from integrations.slack.models import SlackInstallation

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,30}$")


class ChannelForm(forms.Form):
    """A channel from Slack's list of the workspace's public channels; when Slack cannot
    list them, a channel ID typed in."""

    channel = forms.CharField(label=gettext_lazy("Channel"), max_length=32)

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channels = dict(channels)
        if channels:
            self.fields["channel"].widget = forms.Select(
                choices=[("", _("Choose a channel")), *((pk, f"#{name}") for pk, name in channels)]
            )
        else:
            self.fields["channel"].help_text = _(
                "Slack's channel list is not available: paste the channel's ID (in Slack: "
                "the channel's name → About → Channel ID)."
            )

    def clean_channel(self) -> str:
        value = self.cleaned_data["channel"].strip()
        if self.channels and value not in self.channels:
            raise forms.ValidationError(_("Pick one of the workspace's public channels."))
        if not self.channels and not CHANNEL_ID.match(value):
            raise forms.ValidationError(_("Paste a channel ID such as C0123ABCD."))
        return value


def _installations() -> list[SlackInstallation]:
    return list(SlackInstallation.objects.select_related("installed_by").order_by("team_name"))


@manager_required
@require_GET
def slack_page(request: HttpRequest) -> HttpResponse:
    installations = _installations()
    rows = []
    for installation in installations:
        channels: list[tuple[str, str]] = []
        if installation.active:
            channels = services.channels_list(installation)
            # channels_list marks the installation broken when Slack refuses its token.
            installation.refresh_from_db(fields=["status", "broken_reason", "broken_at"])
        rows.append(
            {
                "installation": installation,
                "form": ChannelForm(
                    initial={"channel": installation.channel_id}, channels=channels
                ),
            }
        )
    return render(
        request,
        "integrations/slack.html",
        {"rows": rows, "configured": services.configured(), "scopes": services.SCOPES},
    )


@manager_required
@require_GET
def slack_install(request: HttpRequest) -> HttpResponse:
    if not services.configured():
        messages.error(
            request, _("Set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET first.")
        )
        return redirect("integrations:slack")
    return redirect(services.authorize_url(session=request.session))


@manager_required
@require_GET
def slack_oauth_callback(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if not services.SessionStateStore(request.session).consume(state):
        messages.error(
            request,
            _(
                "That Slack link was not started here, was used already or is older than 10 "
                "minutes: nothing was installed. Start again with “Add to Slack”."
            ),
        )
        return redirect("integrations:slack")
    if request.GET.get("error"):
        messages.info(request, _("Slack was not added (cancelled in Slack)."))
        return redirect("integrations:slack")
    try:
        installation = services.installation_complete(
            code=request.GET.get("code", ""), by=request.user
        )
    except services.SlackError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Vouch is connected to %(workspace)s. Now choose the channel it posts to.")
            % {"workspace": installation.team_name or installation.team_id},
        )
    return redirect("integrations:slack")


@manager_required
@require_POST
def slack_channel(request: HttpRequest, pk: int) -> HttpResponse:
    installation = get_object_or_404(SlackInstallation, pk=pk)
    channels = services.channels_list(installation) if installation.active else []
    form = ChannelForm(request.POST, channels=channels)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(m) for m in form.errors.get("channel", [_("Pick a channel.")]))
        )
        return redirect("integrations:slack")
    channel_id = form.cleaned_data["channel"]
    names = form.channels
    services.channel_set(
        installation_id=installation.pk,
        channel_id=channel_id,
        channel_name=names.get(channel_id, ""),
        by=request.user,
    )
    label = f"#{names[channel_id]}" if channel_id in names else channel_id
    messages.success(
        request,
        _("Notifications go to %(channel)s. Invite the Vouch app to it (/invite @Vouch).")
        % {"channel": label},
    )
    return redirect("integrations:slack")


@manager_required
@require_POST
def slack_uninstall(request: HttpRequest, pk: int) -> HttpResponse:
    installation = get_object_or_404(SlackInstallation, pk=pk)
    services.installation_remove(installation_id=installation.pk, by=request.user)
    messages.success(
        request,
        _("Vouch is disconnected from %(workspace)s.")
        % {"workspace": installation.team_name or installation.team_id},
    )
    return redirect("integrations:slack")


# --- Requests from Slack (no session: the signature is the authentication) ---------------


def _refused(request: HttpRequest) -> HttpResponse | None:
    if not services.configured():
        return JsonResponse({"error": "Slack is not enabled on this site."}, status=503)
    if not commands.signature_valid(request.body, request.headers):
        return JsonResponse({"error": "Invalid or expired Slack signature."}, status=401)
    return None


def _answer(body: dict | None) -> HttpResponse:
    return HttpResponse(status=200) if body is None else JsonResponse(body)


@public
@csrf_exempt
@require_http_methods(["POST"])
def slack_commands(request: HttpRequest) -> HttpResponse:
    refused = _refused(request)
    if refused is not None:
        return refused
    return _answer(commands.slash_command(request.POST))


@public
@csrf_exempt
@require_http_methods(["POST"])
def slack_interactivity(request: HttpRequest) -> HttpResponse:
    refused = _refused(request)
    if refused is not None:
        return refused
    return _answer(commands.interaction(request.POST.get("payload", "")))
