"""Rendering campaign emails: placeholder values, the two templates, the MIME bytes."""

from __future__ import annotations

import binascii
import logging
import re
import secrets
from dataclasses import dataclass, field
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import forbid_multi_line_headers
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

from campaigns import kinds, placeholders
from campaigns.models import Campaign, CampaignMessage
from campaigns.sending.tracking import click_url, open_pixel_url, unsubscribe_url
from core.i18n import speaking_to
from core.models import ProgramSettings

logger = logging.getLogger(__name__)


def recipient_values(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program_name: str,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Every placeholder's value for one message (the kind adds its own).

    ``extra``: the kind's values for this message, when the batch looked them up already
    (``prepare_batch``); otherwise they are looked up here, one message at a time.
    """
    values = {
        "first_name": message.first_name or pgettext("greeting, as in “Hi there”", "there"),
        "last_name": message.last_name,
        "program_name": program_name,
        "referral_link": "",
        "challenge_link": "",
        "unsubscribe_link": unsubscribe_url(message.pk) if message.pk else "",
    }
    used = placeholders.used_placeholders(campaign.subject) | placeholders.used_placeholders(
        campaign.body
    )
    if extra is not None:
        pass
    elif message.pk is None and campaign.kind == Campaign.Kind.INVITATION:
        # A preview must not create a real invitation.
        extra = {"invitation_link": settings.SITE_URL + "/join/…/"}
    else:
        extra = kinds.message_context(message)
    values.update({k: str(v) for k, v in extra.items()})
    if "referral_link" in used and not values["referral_link"] and message.advocate_id:
        values["referral_link"] = kinds.referral_link(message.advocate_id)
    if "challenge_link" in used and not values["challenge_link"] and campaign.challenge_id:
        values["challenge_link"] = settings.SITE_URL + reverse(
            "challenges:detail", kwargs={"pk": campaign.challenge_id}
        )
    return values


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    unsubscribe_url: str
    body_html: str = ""


# The per-message parts of the two email templates. A batch renders each template once
# with these markers in their place and splits the result on them; each message then
# only joins strings, instead of rendering both templates (and the branding tag's
# settings lookup) per message. The markers cannot come from a manager's text: the
# message's values are joined in, never scanned for markers.
_SLOT = "vouch-slot-7f3c9e"
_SLOTS = {name: f"{_SLOT}-{name}" for name in ("body_html", "body_text", "unsubscribe", "pixel")}
_SLOT_SPLIT = re.compile("(" + "|".join(re.escape(m) for m in _SLOTS.values()) + ")")


@dataclass
class _Shell:
    """One template rendered with markers, split into constant text and slot names."""

    parts: list[str]

    @classmethod
    def render(cls, template: str, context: dict[str, Any]) -> _Shell:
        by_marker = {marker: name for name, marker in _SLOTS.items()}
        pieces = _SLOT_SPLIT.split(render_to_string(template, context))
        # Odd positions are the markers (re.split keeps the captured separators).
        return cls([by_marker[p] if i % 2 else p for i, p in enumerate(pieces)])

    def fill(self, values: dict[str, str]) -> str:
        return "".join(values[p] if i % 2 else p for i, p in enumerate(self.parts))


@dataclass
class Prepared:
    """What a batch of messages shares, looked up once per claim (``prepare_batch``)."""

    extra: dict[int, dict[str, str]]  # message pk -> the kind's placeholder values
    program: ProgramSettings
    # language -> the text and (tracked, with the open pixel) HTML shells, each rendered
    # once per batch, on the first message written in that language.
    shells: dict[str, tuple[_Shell, _Shell]] = field(default_factory=dict)

    def shells_in(self, language: str) -> tuple[_Shell, _Shell]:
        """The two shells in ``language`` (call it inside that language's override)."""
        if language not in self.shells:
            self.shells[language] = _shells(self.program, pixel=True)
        return self.shells[language]


def _shells(program: ProgramSettings, *, pixel: bool) -> tuple[_Shell, _Shell]:
    context = {
        "program_name": program.display_name,
        "body_html": mark_safe(_SLOTS["body_html"]),  # a constant marker
        "body_text": _SLOTS["body_text"],
        "unsubscribe_url": _SLOTS["unsubscribe"],
        "pixel_url": _SLOTS["pixel"] if pixel else "",
        "brand_color": program.primary_color,
    }
    return (
        _Shell.render("emails/campaign.txt", context),
        _Shell.render("emails/campaign.html", context),
    )


def prepare_batch(
    *, campaign: Campaign, messages: list[CampaignMessage], program: ProgramSettings
) -> Prepared:
    """The batch's shared lookups: the kind's values in O(1) queries, the templates once."""
    try:
        extra = kinds.messages_context(messages)
    except Exception:
        # Each message then looks its values up itself, inside its own build, where an
        # error fails that message alone (a batch-wide error would leave every row of the
        # batch claimed, and each worker that re-claims it would fail the same way).
        logger.exception("campaign %s: batch lookups failed, one message at a time", campaign.pk)
        extra = {}
    return Prepared(extra=extra, program=program)


def recipient_user(message: CampaignMessage) -> Any:
    """The account a message goes to (None for a contact or prospect without one): its
    language is the one the message is written in. The batch loads it with the messages."""
    advocate = message.advocate if message.advocate_id is not None else None
    return advocate.user if advocate is not None else None


def render_message(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program: ProgramSettings,
    track: bool = True,
    prepared: Prepared | None = None,
) -> Rendered:
    """The subject, plain-text and HTML bodies of one message (``track``: tracked links).

    ``prepared``: the batch's shared lookups (sending); without it, everything is looked
    up for this one message (previews).

    Written in the recipient's language (``recipient_user``): the footer, the unsubscribe
    text and the placeholders' defaults.
    """
    with speaking_to(recipient_user(message)) as language:
        return _render_message(
            campaign=campaign,
            message=message,
            program=program,
            track=track,
            prepared=prepared,
            language=language,
        )


def _render_message(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program: ProgramSettings,
    track: bool,
    prepared: Prepared | None,
    language: str,
) -> Rendered:
    values = recipient_values(
        campaign=campaign,
        message=message,
        program_name=program.display_name,
        extra=prepared.extra.get(message.pk) if prepared else None,
    )
    unsubscribe = values["unsubscribe_link"]
    subject = " ".join(placeholders.render_text(campaign.subject, values).split())
    body = placeholders.render_text(campaign.body, values)
    tracked = track and bool(message.pk)

    links: dict[str, str] = {}

    def link(url: str) -> str:
        # The unsubscribe link and our own tracking links go out as they are.
        if not tracked or url == unsubscribe:
            return url
        if url not in links:  # the HTML and the text part share each signed link
            links[url] = click_url(message.pk, url)
        return links[url]

    body_html = placeholders.text_to_html(body, link=link)
    body_text = placeholders.track_links_in_text(body, link)
    pixel = open_pixel_url(message.pk) if tracked else ""
    if prepared is not None and pixel:
        slots = {
            "body_html": body_html,
            "body_text": body_text,
            "unsubscribe": unsubscribe,
            "pixel": pixel,
        }
        text_shell, html_shell = prepared.shells_in(language)
        text = text_shell.fill(slots)
        # Autoescaping, as the template does for plain strings.
        html = html_shell.fill(slots | {"unsubscribe": escape(unsubscribe), "pixel": escape(pixel)})
    else:
        context = {
            "program_name": program.display_name,
            "body_html": body_html,
            "body_text": body_text,
            "unsubscribe_url": unsubscribe,
            "pixel_url": pixel,
            "brand_color": program.primary_color,
        }
        text = render_to_string("emails/campaign.txt", context)
        html = render_to_string("emails/campaign.html", context)
    return Rendered(
        subject=subject, text=text, html=html, unsubscribe_url=unsubscribe, body_html=body_html
    )


def _message_id(message: CampaignMessage) -> str:
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "vouch"
    return f"<vouch.campaign-{message.campaign_id}.message-{message.pk}@{domain}>"


def build_email(
    *,
    campaign: Campaign,
    message: CampaignMessage,
    program: ProgramSettings,
    prepared: Prepared | None = None,
) -> EmailMultiAlternatives:
    rendered = render_message(
        campaign=campaign, message=message, program=program, prepared=prepared
    )
    email = EmailMultiAlternatives(
        rendered.subject,
        rendered.text,
        to=[message.email],
        headers={
            "Message-ID": _message_id(message),
            # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs.
            "List-Unsubscribe": f"<{rendered.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Vouch-Campaign": str(campaign.pk),
        },
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


# --- The MIME text ------------------------------------------------------------------------


def _qp(text: str) -> bytes:
    # CRLF line ends in, CRLF out (b2a_qp keeps the style of the first line end).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return binascii.b2a_qp(lines.encode("utf-8"), istext=True) + b"\r\n"


def email_bytes(email: EmailMultiAlternatives) -> bytes:
    """The message as SMTP DATA (CRLF), for the shape campaigns send: a UTF-8 text part
    and one HTML alternative, quoted-printable (7-bit: any server takes it).

    Written out directly, without the email package's generator (header folding, policy
    lookups per message). Anything else goes through Django's own ``message()``.
    tests/campaigns/test_sending.py parses both and compares them.
    """
    encoding = email.encoding or settings.DEFAULT_CHARSET
    names = {name.lower() for name in email.extra_headers}
    if (
        email.attachments
        or email.cc
        or email.reply_to
        or encoding.lower() not in ("utf-8", "utf8")
        or email.content_subtype != "plain"
        or len(email.alternatives) != 1
        or email.alternatives[0][1] != "text/html"
        or not isinstance(email.alternatives[0][0], str)
        or names & {"from", "to", "cc", "reply-to", "content-type", "mime-version"}
    ):
        return email.message().as_bytes(linesep="\r\n")
    boundary = f"=_vouch_{secrets.token_hex(12)}"  # "=" never appears in a QP body
    headers = [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        forbid_multi_line_headers("Subject", str(email.subject), encoding),
        forbid_multi_line_headers("From", email.from_email, encoding),
        forbid_multi_line_headers("To", ", ".join(str(to) for to in email.to), encoding),
    ]
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers += [
        forbid_multi_line_headers(name, value, encoding)
        for name, value in email.extra_headers.items()
    ]
    # Header.encode() folds long values with "\n ": made "\r\n " here (no other newline
    # can be in a value: forbid_multi_line_headers refuses them).
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).replace("\n ", "\r\n ")
    part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
    return b"".join(
        [
            head.encode("ascii"),
            b"\r\n",
            f"--{boundary}\r\n{part.format('plain')}\r\n\r\n".encode("ascii"),
            _qp(str(email.body)),
            f"--{boundary}\r\n{part.format('html')}\r\n\r\n".encode("ascii"),
            _qp(str(email.alternatives[0][0])),
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )
