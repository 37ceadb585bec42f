"""What Slack sends Vouch: the ``/vouch`` slash command and the reference modal's submission.

Every request is first checked against ``SLACK_SIGNING_SECRET`` (slack_sdk's
``SignatureVerifier``: HMAC-SHA256 of ``v0:timestamp:body``, timestamp within 5 minutes);
a request that fails is refused before anything is read or written.

The Slack user is mapped to a Vouch account by email (users.info, scope
users:read.email): only an active sales rep or community manager may ask for a
reference, and the request is created as that person, through the same form and service
as the web page (references.forms / references.services.request_create).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.forms.utils import pretty_name
from django.urls import reverse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import Clock, SignatureVerifier

from advocates.models import User
from core.outbox import enqueue_after_commit
from core.roles import Role, has_role
from integrations.slack import api, notify, services
from integrations.slack.crypto import TokenUnreadable
from integrations.slack.models import SlackInstallation
from references import services as references
from references.forms import ReferenceRequestForm
from references.models import ReferenceRequest

logger = logging.getLogger(__name__)

CALLBACK_ID = "vouch_reference_request"
ACTION_ID = "value"
CONFIRM_TASK = "integrations.tasks.slack_request_confirm"
# The modal's inputs, in order: the web form's required fields and the notes. The form's
# other optional fields (seniority, industry, size, products, topics) stay on the web page.
MODAL_FIELDS = (
    "prospect_name",
    "prospect_email",
    "prospect_title",
    "prospect_company",
    "opportunity_name",
    "opportunity_amount",
    "opportunity_stage",
    "call_type",
    "needed_by",
    "notes",
)
# Tests replace it to freeze the verifier's time.
clock = Clock()


def signature_valid(body: bytes, headers: Mapping[str, str]) -> bool:
    verifier = SignatureVerifier(settings.SLACK_SIGNING_SECRET, clock=clock)
    return verifier.is_valid_request(body, dict(headers))


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


HELP = (
    "*Vouch in Slack*\n"
    "• `/vouch reference`: ask for a reference call for a prospect (opens a form).\n"
    "• `/vouch help`: this message.\n"
    "Vouch also posts new referrals, accepted reference asks and finished calls here, "
    "and sends you a DM for the ones that are yours."
)


def _dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: a payload is read, not trusted."""
    return value if isinstance(value, dict) else {}


# --- Who is asking ----------------------------------------------------------------------


class NotAllowed(Exception):
    pass


def staff_user(web: WebClient, slack_user_id: str) -> User:
    """The active rep or manager whose email is this Slack user's, or NotAllowed."""
    if not slack_user_id:
        raise NotAllowed
    try:
        response = web.users_info(user=slack_user_id)
    except SlackApiError as error:
        if api.error_code(error) in ("user_not_found", "user_not_visible"):
            raise NotAllowed from None
        raise
    user = _dict(_dict(response.data).get("user"))
    email = str(_dict(user.get("profile")).get("email") or "")
    if not email or user.get("deleted") or user.get("is_bot"):
        raise NotAllowed
    vouch_user = User.objects.filter(email__iexact=email, is_active=True).first()
    if vouch_user is None or not has_role(vouch_user, Role.REP, Role.MANAGER):
        raise NotAllowed
    return vouch_user


REFUSED = (
    "Only Vouch's sales reps and community managers can ask for references from Slack, "
    "and your Slack email must be the one you sign in to Vouch with."
)


def _installation(team_id: str) -> SlackInstallation | None:
    return SlackInstallation.objects.filter(
        team_id=team_id, status=SlackInstallation.Status.ACTIVE
    ).first()


def _web(installation: SlackInstallation) -> WebClient:
    return api.client(services.bot_token(installation), timeout=api.INTERACTIVE_TIMEOUT_SECONDS)


NOT_CONNECTED = (
    "Vouch is not connected to this workspace (or needs reinstalling): ask a community "
    "manager to add it from Vouch's console, Slack page."
)


# --- The slash command --------------------------------------------------------------------


def slash_command(form: Mapping[str, str]) -> dict[str, Any] | None:
    """Answer ``/vouch ...``: a JSON body for Slack, or None (empty 200: a modal opened)."""
    words = str(form.get("text") or "").split()
    sub = words[0].lower() if words else "help"
    if sub == "help":
        return ephemeral(HELP)
    if sub != "reference":
        return ephemeral(f"I don't know “{sub[:40]}”.\n\n{HELP}")
    installation = _installation(form.get("team_id", ""))
    if installation is None:
        return ephemeral(NOT_CONNECTED)
    try:
        web = _web(installation)
        staff_user(web, form.get("user_id", ""))
        # In the request itself: a trigger_id expires 3 seconds after the command.
        web.views_open(trigger_id=form.get("trigger_id", ""), view=reference_modal())
    except NotAllowed:
        return ephemeral(REFUSED)
    except TokenUnreadable as error:
        services.installation_mark_broken(installation_id=installation.pk, reason=str(error))
        return ephemeral(NOT_CONNECTED)
    except (SlackApiError, OSError) as error:
        problem = api.classify(error)
        if isinstance(problem, api.TokenRefused):
            services.installation_mark_broken(installation_id=installation.pk, reason=problem.error)
            return ephemeral(NOT_CONNECTED)
        logger.warning("Slack /vouch reference in %s: %s", installation.team_id, problem)
        return ephemeral(
            "Slack did not open the form just now; try again, or ask on the web: "
            + settings.SITE_URL
            + reverse("references:request_new")
        )
    return None


# --- The modal ----------------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _label(name: str) -> str:
    # The class's fields: an instance's optional labels carry "(optional)" markup, and
    # Slack marks optional inputs itself.
    field = ReferenceRequestForm.base_fields[name]
    return str(field.label or pretty_name(name))[:2000]


def _element(form: ReferenceRequestForm, name: str) -> dict[str, Any]:
    field = form.fields[name]
    element: dict[str, Any]
    if name == "prospect_email":
        element = {"type": "email_text_input"}
    elif name == "opportunity_amount":
        element = {"type": "number_input", "is_decimal_allowed": True, "min_value": "0"}
    elif name == "needed_by":
        element = {"type": "datepicker"}
    elif hasattr(field, "choices"):
        element = {
            "type": "static_select",
            "options": [
                {"text": _plain(str(label)[:75]), "value": str(value)}
                for value, label in field.choices
                if value
            ],
        }
    else:
        element = {"type": "plain_text_input"}
        if name == "notes":
            element |= {"multiline": True, "max_length": 2000}
        else:
            element["max_length"] = getattr(field, "max_length", None) or 200
    return {**element, "action_id": ACTION_ID}


def reference_modal() -> dict[str, Any]:
    form = ReferenceRequestForm()
    blocks = [
        {
            "type": "input",
            "block_id": name,
            "label": _plain(_label(name)),
            "optional": not form.fields[name].required,
            "element": _element(form, name),
        }
        for name in MODAL_FIELDS
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain("Ask for a reference"),
        "submit": _plain("Find advocates"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _values(state: Mapping[str, Any]) -> dict[str, str]:
    """The modal's answers as the web form's POST data."""
    data: dict[str, str] = {}
    for name in MODAL_FIELDS:
        action = _dict(_dict(state.get(name)).get(ACTION_ID))
        if "selected_option" in action:
            value = _dict(action.get("selected_option")).get("value")
        elif "selected_date" in action:
            value = action.get("selected_date")
        else:
            value = action.get("value")
        data[name] = value if isinstance(value, str) else ""
    return data


def _errors(errors: Mapping[str, str]) -> dict[str, Any]:
    # Slack's format for a refused view_submission: messages under the input blocks.
    return {"response_action": "errors", "errors": dict(errors)}


def view_submission(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The modal was submitted: create the request as the mapped rep, or say what to fix."""
    view = _dict(payload.get("view"))
    if view.get("callback_id") != CALLBACK_ID:
        return None
    slack_user = _dict(payload.get("user"))
    team_id = str(_dict(payload.get("team")).get("id") or slack_user.get("team_id") or "")
    slack_user_id = str(slack_user.get("id") or "")
    first = MODAL_FIELDS[0]
    installation = _installation(team_id)
    if installation is None:
        return _errors({first: NOT_CONNECTED})
    try:
        user = staff_user(_web(installation), slack_user_id)
    except NotAllowed:
        return _errors({first: REFUSED})
    except (SlackApiError, OSError, TokenUnreadable) as error:
        problem = api.classify(error)
        if isinstance(problem, api.TokenRefused):
            services.installation_mark_broken(installation_id=installation.pk, reason=problem.error)
        return _errors({first: "Slack could not tell Vouch who you are just now: try again."})
    form = ReferenceRequestForm(_values(_dict(_dict(view.get("state")).get("values"))))
    if not form.is_valid():
        errors: dict[str, str] = {}
        for name, messages in form.errors.items():
            errors[name if name in MODAL_FIELDS else first] = " ".join(str(m) for m in messages)
        return _errors(errors)
    try:
        created = references.request_create(rep=user, **form.cleaned_data)
    except references.ReferenceError as error:
        return _errors({"needed_by": str(error)})
    enqueue_after_commit(CONFIRM_TASK, installation.pk, slack_user_id, created.pk)
    return None


def request_confirm(*, installation_id: int, slack_user_id: str, request_id: int) -> bool:
    """DM the rep that their request from Slack was saved, with its matches' link."""
    installation = _installation_by_pk(installation_id)
    if installation is None:
        return False
    request = ReferenceRequest.objects.filter(pk=request_id).first()
    if request is None:
        return False
    note = notify.Note(
        key=f"reference.requested:{request.pk}",
        text=f":mag: Your reference request for *{notify.mrkdwn(request.prospect_company)}* "
        "is saved: Vouch has ranked the advocates who fit.",
        url=settings.SITE_URL + reverse("references:request_detail", kwargs={"pk": request.pk}),
        rep_id=None,
    )
    web = api.client(services.bot_token(installation))
    try:
        channel = notify.dm_channel(web, slack_user_id)
        return notify.post_once(installation, web, channel=channel, target="dm", note=note)
    except (SlackApiError, OSError) as error:
        problem = api.classify(error)
        if isinstance(problem, api.TokenRefused):
            services.installation_mark_broken(installation_id=installation.pk, reason=problem.error)
            return False
        raise problem from error


def _installation_by_pk(pk: int) -> SlackInstallation | None:
    return SlackInstallation.objects.filter(pk=pk, status=SlackInstallation.Status.ACTIVE).first()


def interaction(raw_payload: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(raw_payload)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("type") != "view_submission":
        return None  # Vouch's messages have only link buttons: nothing else to handle
    return view_submission(payload)
