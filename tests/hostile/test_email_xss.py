"""Script typed into names, subjects and bodies is escaped in the HTML emails too."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.hostile.tally import tried

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)", "<img src=x onerror", 'href="javascript:')


def _assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html, html[max(0, html.find(raw) - 200) : html.find(raw) + 100]


def test_campaign_email_escapes_subject_body_names_and_program_name(advocate, manager) -> None:
    from campaigns.models import Campaign, CampaignMessage
    from campaigns.sending import render
    from core.models import ProgramSettings

    tried("email renders")
    program = ProgramSettings.load()
    program.name = PAYLOAD[:80]
    program.save()
    campaign = Campaign.objects.create(
        name=PAYLOAD,
        subject=f"Hi {{{{ first_name }}}} {PAYLOAD}",
        body=f"Hello {{{{ first_name }}}},\n\n{PAYLOAD}\njavascript:alert(1)\n"
        f'https://example.org/a?b="><script>alert(1)</script>',
        created_by=manager,
    )
    message = CampaignMessage.objects.create(
        campaign=campaign, advocate=advocate, email=advocate.user.email, first_name=PAYLOAD
    )
    rendered = render.render_message(campaign=campaign, message=message, program=program)
    _assert_escaped(rendered.html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html  # shown, as text


def test_invitation_email_escapes_the_names_a_rep_typed(
    manager_client, django_capture_on_commit_callbacks
) -> None:
    tried("email renders")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("advocates:invite"),
            {
                "invite_one": "1",
                "email": "victim@example.com",
                "first_name": PAYLOAD[:150],
                "last_name": PAYLOAD[:150],
                "company": PAYLOAD,
                "title": PAYLOAD,
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    html = mail.outbox[0].alternatives[0][0]
    _assert_escaped(html)
