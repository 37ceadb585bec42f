"""``{% email_brand as brand %}``: the program's name, logo and colours for an email.

Read by ``templates/emails/base.html`` itself, so every email is branded whichever code
renders it (``advocates.emails.send_templated`` or a campaign's own sender).
"""

from __future__ import annotations

from django import template

from core.branding import email_context

register = template.Library()


@register.simple_tag
def email_brand() -> dict[str, str]:
    context = email_context()
    return {
        "name": context["program_name"],
        "logo_url": context["program_logo_url"],
        "color": context["brand_color"],
        "ink": context["brand_ink"],
        "text": context["brand_text"],
    }
