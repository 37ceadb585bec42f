"""Slack notifications: domain events (core.events) to each workspace's channel and to the
owner rep by DM, and the daily pending-reviews digest; Block Kit with a link to Vouch.

Delivery is at least once per target: a message that went out is remembered in the
cache for two days (``_SENT``), so a task retried after a 429 or a 5xx on the rep's DM
does not post the channel's message again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from advocates.models import Advocate, User
from challenges.models import Submission
from core import events
from integrations.slack import api, services
from integrations.slack.crypto import TokenUnreadable
from integrations.slack.models import SlackInstallation
from referrals.models import Method, Stage

logger = logging.getLogger(__name__)

NOTIFY_TASK = "integrations.tasks.slack_event_notify"
EVENTS = ("referral.created", "reference.ask_accepted", "reference.call_completed")
# More events than this in one emit (a CSV import) become one summary in the channel and
# no DMs: a rep's Slack should not get 2,000 pings from one import.
SUMMARY_OVER = 5
SENT_SECONDS = 2 * 24 * 3600
USER_SECONDS = 24 * 3600
NO_USER_SECONDS = 3600
_SENT = "integrations:slack:sent:{team}:{key}:{target}"
_USER = "integrations:slack:user:{team}:{email}"


def listen() -> None:
    for event_type in EVENTS:
        events.listen(event_type, task=NOTIFY_TASK, active=services.any_active)


@dataclass(frozen=True)
class Note:
    key: str  # what it is about, for the send-once memory: "referral.created:42"
    text: str  # the notification's plain text (Slack shows it in push notifications)
    url: str
    rep_id: int | None  # also sent to this rep by DM


def mrkdwn(text: str) -> str:
    """User text inside Slack's mrkdwn: &, < and > escaped (Slack's formatting docs)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(name: str, **kwargs: Any) -> str:
    return settings.SITE_URL + reverse(name, kwargs=kwargs or None)


def blocks(text: str, url: str, *, button: str = "Open in Vouch") -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": button},
                    "url": url,
                    "action_id": "open_in_vouch",
                }
            ],
        },
    ]


def _names(advocate_ids: Iterable[int]) -> dict[int, str]:
    advocates = Advocate.objects.select_related("user").in_bulk(set(advocate_ids))
    return {pk: advocate.name for pk, advocate in advocates.items()}


def _notes(event_type: str, items: list[dict[str, Any]]) -> list[Note]:
    if event_type == "referral.created":
        items = [item for item in items if item.get("stage") == Stage.SUBMITTED]
        if len(items) > SUMMARY_OVER:
            first, last = items[0]["referral"], items[-1]["referral"]
            return [
                Note(
                    key=f"referral.created:{first}-{last}:{len(items)}",
                    text=f":inbox_tray: {len(items)} new referrals were recorded at once "
                    "(an import or the CRM).",
                    url=_link("referrals:rep_list"),
                    rep_id=None,
                )
            ]
    names = _names(int(item["advocate"]) for item in items if item.get("advocate"))
    notes = []
    for item in items:
        who = mrkdwn(names.get(int(item.get("advocate") or 0), "An advocate"))
        if event_type == "referral.created":
            company = mrkdwn(str(item.get("referred_company") or "a new company"))
            method = Method(item["method"]).label.lower() if item.get("method") else ""
            notes.append(
                Note(
                    key=f"referral.created:{item['referral']}",
                    text=f":handshake: New referral from *{who}*: someone at *{company}*"
                    + (f" ({method})" if method else "")
                    + ".",
                    url=_link("referrals:rep_detail", pk=item["referral"]),
                    rep_id=item.get("owner_rep"),
                )
            )
        else:
            company = mrkdwn(str(item.get("prospect_company") or "the prospect"))
            if event_type == "reference.ask_accepted":
                text = f":white_check_mark: *{who}* accepted a reference call with *{company}*."
            else:
                text = f":telephone_receiver: Reference call done: *{who}* with *{company}*."
            notes.append(
                Note(
                    key=f"{event_type}:{item['ask']}",
                    text=text,
                    url=_link("references:request_detail", pk=item["request"]),
                    rep_id=item.get("rep"),
                )
            )
    return notes


def post_once(
    installation: SlackInstallation, web: WebClient, *, channel: str, target: str, note: Note
) -> bool:
    key = _SENT.format(team=installation.team_id, key=note.key, target=target)
    if cache.get(key):
        return False
    web.chat_postMessage(
        channel=channel, text=note.text, blocks=blocks(note.text, note.url), unfurl_links=False
    )
    cache.set(key, 1, SENT_SECONDS)
    return True


def slack_user_id(installation: SlackInstallation, web: WebClient, email: str) -> str:
    """The Slack user with ``email`` in this workspace ("" if none), cached a day."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    key = _USER.format(team=installation.team_id, email=digest)
    cached = cache.get(key)
    if cached is not None:
        return str(cached)
    try:
        response = web.users_lookupByEmail(email=email)
    except SlackApiError as error:
        if api.error_code(error) == "users_not_found":
            cache.set(key, "", NO_USER_SECONDS)
            return ""
        raise
    user_id = str((response.data.get("user") or {}).get("id", "")) if response.data else ""  # type: ignore[union-attr]
    cache.set(key, user_id, USER_SECONDS)
    return user_id


def dm_channel(web: WebClient, user_id: str) -> str:
    response = web.conversations_open(users=user_id)
    return str(response["channel"]["id"])


def _deliver(installation: SlackInstallation, notes: list[Note], reps: dict[int, User]) -> int:
    """Post ``notes`` in one workspace; raises api.RetryLater to try again later."""
    try:
        web = api.client(services.bot_token(installation))
    except TokenUnreadable as error:
        services.installation_mark_broken(installation_id=installation.pk, reason=str(error))
        return 0
    sent = 0
    for note in notes:
        targets: list[tuple[str, str | None]] = []
        if installation.channel_id:
            targets.append(("channel", installation.channel_id))
        rep = reps.get(note.rep_id) if note.rep_id else None
        if rep is not None:
            targets.append((f"dm:{rep.pk}", None))
        for target, channel in targets:
            try:
                if channel is None:
                    user_id = slack_user_id(installation, web, rep.email)  # type: ignore[union-attr]
                    if not user_id:
                        continue  # the rep is not in this workspace
                    channel = dm_channel(web, user_id)
                sent += post_once(installation, web, channel=channel, target=target, note=note)
            except (SlackApiError, OSError) as error:
                problem = api.classify(error)
                if isinstance(problem, api.TokenRefused):
                    services.installation_mark_broken(
                        installation_id=installation.pk, reason=problem.error
                    )
                    return sent
                if isinstance(problem, api.RetryLater):
                    raise problem from error
                # This message only (not in the channel, channel archived...): shown in
                # the console, the others still go out.
                code = api.error_code(error) if isinstance(error, SlackApiError) else ""
                services.installation_error_record(
                    installation_id=installation.pk,
                    error=f"{target.split(':')[0]}: {code or error}",
                )
                logger.info("Slack %s: %s refused (%s)", installation.team_id, target, code)
    return sent


def event_notify(*, event_type: str, items: list[dict[str, Any]]) -> int:
    """Post the events ``items`` of ``event_type`` to every connected workspace."""
    notes = _notes(event_type, items)
    if not notes:
        return 0
    rep_ids = {note.rep_id for note in notes if note.rep_id}
    reps = User.objects.filter(is_active=True).in_bulk(rep_ids) if rep_ids else {}
    sent = 0
    for installation in SlackInstallation.objects.filter(status=SlackInstallation.Status.ACTIVE):
        sent += _deliver(installation, notes, reps)
    return sent


# --- The daily digest -------------------------------------------------------------------


def digest_note(today: date) -> Note | None:
    pending = Submission.objects.filter(status=Submission.Status.PENDING).aggregate(
        n=Count("id"), oldest=Min("created_at")
    )
    count = pending["n"] or 0
    if not count:
        return None
    waiting = timezone.now() - pending["oldest"]
    days = waiting.days
    age = "came in today" if days == 0 else f"has waited {days} day{'s' if days != 1 else ''}"
    return Note(
        key=f"digest:{today.isoformat()}",
        text=f":inbox_tray: *{count}* challenge submission{'s' if count != 1 else ''} "
        f"waiting for review; the oldest {age}.",
        url=_link("challenges:review"),
        rep_id=None,
    )


def digest_send(*, today: date | None = None) -> int:
    """Today's pending-reviews digest to each connected channel, once per workspace."""
    today = today or timezone.localdate()
    note = digest_note(today)
    sent = 0
    for installation in SlackInstallation.objects.filter(
        status=SlackInstallation.Status.ACTIVE
    ).exclude(channel_id=""):
        previous = installation.digest_sent_on
        # The row count decides which of two beats (or a retry) sends today's digest.
        won = (
            SlackInstallation.objects.filter(pk=installation.pk)
            .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
            .update(digest_sent_on=today)
        )
        if not won or note is None:
            continue
        try:
            sent += _deliver(installation, [note], {})
        except api.RetryLater:
            # Give the day back, so the retry may send it.
            SlackInstallation.objects.filter(pk=installation.pk, digest_sent_on=today).update(
                digest_sent_on=previous
            )
            raise
    return sent
