"""Templated email: the one helper every app sends through (called by tasks, after commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from core.models import ProgramSettings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def send_templated(
    *,
    to: str,
    template: str,
    context: dict,
    headers: dict | None = None,
    attachments: Sequence[Attachment] = (),
    language: str | None = None,
) -> None:
    """Send ``templates/emails/<template>.{txt,html}`` with the subject block's first line.

    Written in ``language`` (``core.i18n.language_of(recipient)``; the site's language
    when not given). ``attachments`` ride along as files (a calendar invitation's .ics).
    """
    program_name = ProgramSettings.load().display_name  # the name a manager set, if any
    context = {"program_name": program_name, "site_url": settings.SITE_URL} | context
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    message.send()
