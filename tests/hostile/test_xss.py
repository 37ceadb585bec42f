"""Script in any free-text field is shown as text, never run, on every page.

Generic: every free-text column of every row the authorization matrix's world holds
(names, bios, titles, companies, testimonials, reward descriptions, referral notes,
request notes, campaign subjects and bodies, segment names, challenge descriptions...)
is set to a script payload, URL columns to an attribute-breaking URL; then every page of
the matrix is opened by every role allowed to see it, and must contain the payload
only escaped. New pages and columns are covered as they are added.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.authz import World
from tests.hostile.harness import client_for, poison_free_text
from tests.hostile.tally import tried
from tests.test_authorization import CASES

pytestmark = pytest.mark.django_db

PAYLOAD = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>'><svg onload=alert(1)>"
# URL columns get a URL that breaks out of its attribute if not escaped; that forms
# refuse ``javascript:`` URLs in the first place is test_url_fields_refuse_script_schemes.
URL_PAYLOAD = 'https://evil.example/"><script>alert(1)</script>'

# What the payload looks like when it was not escaped.
RAW = ("<script>alert(1)", "<img src=x onerror", "<svg onload", 'href="javascript:',
       "href='javascript:", 'src="javascript:', 'action="javascript:')  # fmt: skip
VIEWERS = ("anonymous", "advocate", "rep", "manager", "admin")


def test_payloads_in_every_free_text_field_are_escaped_on_every_page(world: World) -> None:
    assert poison_free_text(PAYLOAD, URL_PAYLOAD) > 20  # the world's text really changed
    problems: list[str] = []
    pages = 0
    for case in CASES:
        if case.method != "get":
            continue
        kwargs = case.kwargs(world) if callable(case.kwargs) else case.kwargs
        url = reverse(case.name, kwargs=kwargs)
        data = case.data(world) if callable(case.data) else (case.data or {})
        headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
        for role in VIEWERS:
            if case.expect[role] != 200:
                continue
            tried("xss page views")
            response = client_for(world, role).get(url, data=data, **headers)
            pages += 1
            if response.status_code >= 500:
                problems.append(f"{case.id()} as {role}: {response.status_code}")
                continue
            if "html" not in response.get("Content-Type", ""):
                continue
            body = b"".join(response) if response.streaming else response.content
            text = body.decode(errors="replace")
            for raw in RAW:
                if raw in text:
                    at = text.index(raw)
                    problems.append(f"{case.id()} as {role}: {text[max(0, at - 120) : at + 60]!r}")
    assert pages > 50
    assert not problems, "Unescaped payloads:\n" + "\n".join(problems)


SCRIPT_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
               "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
               "vbscript:msgbox(1)", "javascript://example.com/%0Aalert(1)"]  # fmt: skip


@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_url_fields_refuse_script_schemes(advocate, advocate_client, url: str) -> None:
    from challenges.models import Challenge, Submission
    from tests.challenges.factories import ChallengeFactory

    tried("script URLs", 2)
    response = advocate_client.post(
        reverse("advocates:profile"),
        {"title": "CTO", "reference_max_calls_per_90d": "2", "linkedin_url": url},
    )
    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()
    advocate.refresh_from_db()
    assert advocate.linkedin_url == ""

    challenge = ChallengeFactory(kind=Challenge.Kind.SOCIAL_SHARE)
    prefix = f"c{challenge.pk}-"
    advocate_client.post(
        reverse("challenges:submit", kwargs={"pk": challenge.pk}), {prefix + "url": url}
    )
    assert not Submission.objects.filter(challenge=challenge).exists()
