"""Templated email: the one helper every app sends through (called by tasks, after commit)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from core.models import ProgramSettings


def send_templated(*, to: str, template: str, context: dict, headers: dict | None = None) -> None:
    """Send ``templates/emails/<template>.{txt,html}`` with the subject block's first line."""
    program_name = ProgramSettings.load().display_name  # the name a manager set, if any
    context = {"program_name": program_name, "site_url": settings.SITE_URL} | context
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    message.send()
