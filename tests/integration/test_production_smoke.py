"""Production, on this machine: the built wheel behind Debian's nginx, on two web hosts.

The wheel is installed with requirements/prod.txt into a fresh virtualenv outside the
checkout; from it run two gunicorn "hosts" (A and B, different ports, sharing nothing but
the PostgreSQL test database, a Redis of this test's own and the object store), a
transactional worker (``-Q <queue>``), a bulk worker (``-Q <queue>-bulk``) and beat.
nginx (deploy/nginx/vouch-proxy.conf: X-Forwarded-For, X-Forwarded-Proto, X-Request-ID)
proxies to both; a test-only ``X-Smoke-Host: a|b`` header pins a request to one host and
nginx reports the host that answered in ``X-Upstream``. Media go to moto's S3 server on
loopback (MEDIA_STORAGE=s3). Email goes through the Postmark backend (EMAIL_PROVIDER=
postmark, so the provider's bounce webhook is on) to a Postmark-compatible API on
loopback that answers after 20 ms, as a provider would; the only test-only setting is
that API's address (a settings module beside the virtualenv).

Ten "visitors" are ten loopback source addresses (127.0.0.2-11): nginx sees each as
``$remote_addr`` and appends it to X-Forwarded-For, and the hosts (TRUSTED_PROXY_COUNT=1)
key allauth's rate limits on it. A header a client sends itself would prove nothing:
nginx appends to it and the app reads only nginx's entry.

What it checked is printed and written to artifacts/production-smoke.txt.
Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/vouch_smoke \
     REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python -m pytest -p no:xdist -s \
     tests/integration/test_production_smoke.py
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from PIL import Image

from advocates.models import Advocate, Company, User
from campaigns.models import Campaign, CampaignMessage, Segment, Suppression
from tests import factories
from tests.campaigns.test_email_provider import POSTMARK_HARD_BOUNCE
from tests.integration.processes import _wait
from tests.integration.production_stack import (
    BUCKET,
    ROOT,
    WEBHOOK_SECRET,
    Stack,
    production_stack,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
BULK_RECIPIENTS = 300
INVITATION_WITHIN = 5.0  # seconds


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with production_stack(tmp_path) as running:
        yield running


# --- The checks ----------------------------------------------------------------------------


def _user(email: str, *, company: Company | None = None, groups: list[str] | None = None) -> User:
    # Hashed here with few iterations (fast); the hosts verify it and re-hash with Argon2id.
    hasher = PBKDF2PasswordHasher()
    kwargs = {"company": company} if company else {}
    advocate = factories.AdvocateFactory(user__email=email, user__groups=groups or [], **kwargs)
    User.objects.filter(pk=advocate.user_id).update(
        password=hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    )
    return User.objects.get(pk=advocate.user_id)


def _sign_in(stack: Stack, session: requests.Session, email: str, password: str, host=None):
    stack.get(session, "/accounts/login/", host=host)  # the CSRF cookie
    return stack.post(
        session, "/accounts/login/", host=host, data={"login": email, "password": password}
    )


def _received(log: str, task: str) -> int:
    """How many ``task`` messages a worker's log says it received."""
    return len(re.findall(rf"Task {re.escape(task)}\[[0-9a-f-]+\] received", log))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 160), (200, 60, 30)).save(out, "PNG")
    return out.getvalue()


def test_production_stack_behind_nginx(stack: Stack, manager) -> None:
    checked: list[str] = []
    started = time.monotonic()
    for path in ("/healthz", "/readyz"):
        for host in ("a", "b"):
            response = stack.get(stack.session(), path, host=host)
            assert response.status_code == 200, response.text
    assert stack.get(stack.session(), "/readyz").json()["status"] == "ok"

    # 1. Signed in via host A; host B knows the session.
    alice = _user("alice@example.com")
    browser = stack.visitor()
    signed_in = _sign_in(stack, browser, alice.email, PASSWORD, host="a")
    assert signed_in.status_code == 302, signed_in.text[:2000]
    assert stack.served_by(signed_in) == "a"
    hub = stack.get(browser, "/hub/", host="b")
    assert stack.served_by(hub) == "b"
    assert hub.status_code == 200, hub.headers
    assert hub.headers["X-Request-ID"]  # nginx's $request_id, echoed by the app
    checked.append("signed in through host A; host B served /hub/ with that session (200)")

    # 2. An avatar uploaded through A is served through B, from the bucket.
    saved = stack.post(
        browser,
        "/profile/",
        host="a",
        data={
            "title": "Head of Data",
            "seniority": "vp",
            "industry": "Retail",
            "bio": "",
            "linkedin_url": "",
            "reference_max_calls_per_90d": "3",
        },
        files={"avatar_upload": ("me.png", _png(), "image/png")},
    )
    assert saved.status_code == 302, saved.text[:2000]
    page = stack.get(browser, "/hub/", host="b")
    assert stack.served_by(page) == "b"
    src = re.search(r'<img class="avatar[^"]*" src="([^"]+)"', page.text)
    assert src is not None, "host B's hub shows no avatar"
    url = html.unescape(src[1])
    assert url.startswith(f"{stack.s3_endpoint}/{BUCKET}/media/avatars/"), url
    picture = requests.get(url, timeout=10)
    assert picture.status_code == 200
    assert Image.open(io.BytesIO(picture.content)).format == "PNG"
    checked.append(
        "avatar uploaded through host A, shown by host B from the S3 bucket (signed URL)"
    )

    # 3. Ten visitors each mistype their password once; an eleventh signs in.
    refused = "Too many failed login attempts"
    for n in range(10):
        email = f"typo{n}@example.com"
        _user(email)
        mistyped = _sign_in(stack, stack.visitor(f"127.0.0.{n + 2}"), email, "wrong password")
        assert mistyped.status_code == 200  # the form again, with its error
        assert refused not in mistyped.text
    eleventh_user = _user("eleventh@example.com")
    eleventh = _sign_in(stack, stack.visitor("127.0.0.12"), eleventh_user.email, PASSWORD)
    assert eleventh.status_code == 302, (
        refused if refused in eleventh.text else eleventh.text[:2000]
    )
    checked.append(
        "10 visitors (127.0.0.2-11) mistyped a password once each (the form again, not "
        f"'{refused}'); an 11th signed in (302)"
    )

    # 4. A campaign goes out through the bulk worker; an invitation is not held behind it.
    bulk_co = factories.CompanyFactory(name="Bulk Co")
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(email=f"bulk{i:04d}@example.com", first_name=f"Bulk{i}", last_name="Person")
            for i in range(BULK_RECIPIENTS)
        ]
    )
    Advocate.objects.bulk_create(
        [
            Advocate(user=u, company=bulk_co, status=Advocate.Status.ACTIVE, joined_at=now)
            for u in users
        ]
    )
    campaign = Campaign.objects.create(
        name="Spring drive",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        segment=Segment.objects.create(name="Bulk", filters={"companies": [bulk_co.pk]}),
        subject="Hi {{ first_name }}",
        body="Share {{ referral_link }}.",
    )
    console = stack.visitor(user=manager)
    stack.get(console, "/invitations/")  # the CSRF cookie
    started_campaign = stack.post(console, f"/console/campaigns/{campaign.pk}/start/")
    assert started_campaign.status_code == 302, started_campaign.text[:2000]
    _wait(lambda: len(stack.api.sent) >= 20, timeout=60, what="the campaign to start sending")
    invited_at = time.monotonic()
    invited = stack.post(
        console,
        "/invitations/",
        data={
            "invite_one": "1",
            "email": "newcomer@example.com",
            "first_name": "New",
            "last_name": "Comer",
            "company": "Newco",
            "title": "",
        },
    )
    assert invited.status_code == 302, invited.text[:2000]
    _wait(
        lambda: bool(stack.api.to("newcomer@example.com")),
        timeout=INVITATION_WITHIN,
        what="the invitation email",
    )
    ((delivered_at, _, _),) = stack.api.to("newcomer@example.com")
    sent_before = sum(
        1 for m in stack.api.sent if m[0] < delivered_at and m[1] != "newcomer@example.com"
    )
    assert sent_before < BULK_RECIPIENTS, "the campaign had finished: nothing was proven"
    _wait(
        lambda: Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENT).exists(),
        timeout=120,
        what="the campaign to finish",
    )
    statuses = set(
        CampaignMessage.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    assert statuses == {"sent"}
    # Each worker ran only its own queue's tasks.
    logs = {name: worker.log.read_text(errors="replace") for name, worker in stack.workers.items()}
    assert _received(logs["bulk"], "campaigns.sending.campaign_send_batch")
    assert not _received(logs["transactional"], "campaigns.sending.campaign_send_batch")
    assert _received(logs["transactional"], "advocates.tasks.invitation_send")
    assert not _received(logs["bulk"], "advocates.tasks.invitation_send")
    bulk_sent = [m for m in stack.api.sent if m[1].startswith("bulk")]
    assert len(bulk_sent) == len({m[1] for m in bulk_sent}) == BULK_RECIPIENTS
    checked.append(
        f"campaign to {BULK_RECIPIENTS} sent by the bulk worker (each once); the invitation "
        f"reached the provider {delivered_at - invited_at:.1f} s after it was asked for, "
        f"with {BULK_RECIPIENTS - sent_before} campaign emails still to go"
    )

    # 5. The provider's bounce webhook suppresses the address; the next campaign skips it.
    bounce_co = factories.CompanyFactory(name="Bounce Co")
    _user(POSTMARK_HARD_BOUNCE["Email"], company=bounce_co)
    _user("fine@example.com", company=bounce_co)
    auth = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
    hook = requests.post(
        stack.base + "/email/events/postmark/",
        data=json.dumps(POSTMARK_HARD_BOUNCE),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        timeout=30,
    )
    assert hook.status_code == 200, hook.text[:2000]
    suppression = Suppression.objects.get(email=POSTMARK_HARD_BOUNCE["Email"])
    assert suppression.reason == Suppression.Reason.BOUNCED
    second = Campaign.objects.create(
        name="Follow-up",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        segment=Segment.objects.create(name="Bounce Co", filters={"companies": [bounce_co.pk]}),
        subject="Hi {{ first_name }}",
        body="Share {{ referral_link }}.",
    )
    assert stack.post(console, f"/console/campaigns/{second.pk}/start/").status_code == 302
    _wait(
        lambda: Campaign.objects.filter(pk=second.pk, status=Campaign.Status.SENT).exists(),
        timeout=60,
        what="the second campaign to finish",
    )
    assert stack.api.to("fine@example.com")
    assert not stack.api.to(POSTMARK_HARD_BOUNCE["Email"])
    skipped = CampaignMessage.objects.get(campaign=second, email=POSTMARK_HARD_BOUNCE["Email"])
    assert skipped.status == CampaignMessage.Status.SKIPPED
    checked.append(
        "Postmark hard-bounce webhook through nginx: 200, suppression 'bounced'; "
        "the next campaign sent to fine@, skipped bounce@"
    )

    # 6. Redis stops: /healthz stays 200, /readyz says degraded (200), pages still serve.
    stack.redis.stop()
    for host in ("a", "b"):
        assert stack.get(stack.session(), "/healthz", host=host).status_code == 200
        ready = stack.get(stack.session(), "/readyz", host=host)
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded", ready.json()
        assert ready.json()["database"] == "ok"
    assert stack.get(stack.session(), "/accounts/login/").status_code == 200
    checked.append(
        "Redis stopped: /healthz 200 and /readyz 200 'degraded' on both hosts; "
        "the sign-in page still 200"
    )

    summary = "\n".join(
        [
            "Production smoke (wheel in a fresh virtualenv, nginx, 2 gunicorn hosts, "
            "2 workers -Q <q> / -Q <q>-bulk, beat, PostgreSQL, Redis, moto S3):"
        ]
        + [f"- {line}" for line in checked]
        + [f"checks took {time.monotonic() - started:.0f} s"]
    )
    print("\n" + summary)
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "production-smoke.txt").write_text(summary + "\n")
