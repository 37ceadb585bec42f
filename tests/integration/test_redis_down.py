"""Redis down: pages keep serving, actions still succeed, their work arrives once later.

A real stack on this test's own Redis (never the shared one): gunicorn with production
settings, a Celery worker, an SMTP sink, the committed PostgreSQL test database. Redis
is stopped; the hub, the login page and a sign-in still work, /readyz says degraded, and a
rep's invitation is recorded with its email waiting in the database outbox. Redis comes
back, the outbox drain (the beat task, run once here) publishes it, and the invitee gets
exactly one email.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db.models import F

from advocates.models import Invitation
from config.celery_app import app as celery_app
from core.models import OutboxTask
from core.outbox import DRAIN_AFTER_SECONDS
from core.tasks import outbox_drain
from tests import factories
from tests.integration.processes import (
    Gunicorn,
    RedisServer,
    Worker,
    browser,
    csrf_token,
    make_worker,
    process_env,
    require_live_stack,
)

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-test-password"


class Stack:
    def __init__(self, redis_server: RedisServer, worker: Worker, web: Gunicorn) -> None:
        self.redis, self.worker, self.web = redis_server, worker, web

    def run_outbox_drain_task(self) -> None:
        """What beat does every 30 s: publish ``outbox_drain`` (to this stack's Redis and
        its worker's queue); then wait until the worker ran it and whatever it published."""
        eager = celery_app.conf.task_always_eager  # this test process's setting
        celery_app.conf.task_always_eager = False
        try:
            with celery_app.connection_for_write(self.redis.url()) as broker_connection:
                celery_app.send_task(
                    outbox_drain.name, queue=self.worker.queue, connection=broker_connection
                )
        finally:
            celery_app.conf.task_always_eager = eager
        self.worker.wait_settled(self.redis.client(), timeout=60)


@pytest.fixture
def stack(transactional_db, smtp_sink, tmp_path) -> Iterator[Stack]:
    require_live_stack()
    redis_server = RedisServer()
    redis_server.start()
    env = process_env(
        redis_url=redis_server.url(),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_sink.port),
        EMAIL_USE_TLS="false",
    )
    worker = make_worker(env, tmp_path)
    web = Gunicorn(env=worker.env, log=tmp_path / "gunicorn.log")
    try:
        worker.launch()
        web.launch()
        worker.wait_ready()
        web.wait_ready()
        yield Stack(redis_server, worker, web)
    finally:
        web.stop()
        worker.stop()
        redis_server.stop()
        print(worker.logs())
        print(web.log.read_text(errors="replace")[-4000:])


def _form_post(session, url: str, data: dict) -> object:
    session.get(url, timeout=10)  # sets the CSRF cookie, as a browser would
    return session.post(
        url,
        data=data | {"csrfmiddlewaretoken": csrf_token(session)},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=10,
    )


def test_with_redis_down_pages_serve_and_the_invitation_email_arrives_once_it_is_back(
    stack: Stack, smtp_sink
) -> None:
    rep = factories.RepFactory(first_name="Ravi")
    advocate = factories.AdvocateFactory(user__email="ada@example.com", user__first_name="Ada")
    # A real password hash (the test process's fast MD5 is unknown to the server).
    hasher = PBKDF2PasswordHasher()
    advocate.user.password = hasher.encode(PASSWORD, hasher.salt())
    advocate.user.save(update_fields=["password"])
    base = stack.web.url

    stack.redis.stop()

    # Pages that do not need Redis keep serving.
    # Liveness stays up; readiness says degraded but stays 200, so a load balancer keeps
    # every host in while they serve without Redis.
    assert browser(base).get(base + "/healthz", timeout=10).json() == {"status": "ok"}
    ready = browser(base).get(base + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["database"] == "ok"
    assert ready.json()["redis"].startswith("error")
    hub = browser(base, advocate.user).get(base + "/hub/", timeout=10)
    assert hub.status_code == 200, hub.text[:500]
    assert "Ada" in hub.text
    login_page = browser(base).get(base + "/accounts/login/", timeout=10)
    assert login_page.status_code == 200
    assert 'name="password"' in login_page.text

    # Signing in works (its rate limit counts in process memory meanwhile) ...
    visitor = browser(base)
    wrong = _form_post(
        visitor, base + "/accounts/login/", {"login": "ada@example.com", "password": "nope"}
    )
    assert wrong.status_code == 200  # the form again, with its error; not a 500
    signed_in = _form_post(
        visitor, base + "/accounts/login/", {"login": "ada@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert visitor.get(base + "/hub/", timeout=10).status_code == 200

    # ... and so does an action that enqueues work: the invitation is recorded.
    rep_browser = browser(base, rep)
    invited = _form_post(
        rep_browser,
        base + "/invitations/",
        {"invite_one": "1", "email": "new.person@example.com", "first_name": "Nia"},
    )
    assert invited.status_code == 302, invited.text[:1000]
    invitation = Invitation.objects.get(email="new.person@example.com")
    [row] = OutboxTask.objects.filter(task="advocates.tasks.invitation_send")
    assert row.sent_at is None
    assert row.args == [invitation.pk, 1]
    # One publish attempt, then the request went on: a broker that is down does not
    # hold the request (PUBLISH_RETRY_POLICY), the row waits for the drain.
    assert row.attempts == 1
    assert "Connection refused" in row.last_error
    # No email: the request answered after its publish failed, and nothing else can
    # deliver one while the broker is down.
    assert smtp_sink.to("new.person@example.com") == []

    # Redis is back: the beat's drain publishes the waiting row, the worker emails it.
    stack.redis.start()
    assert browser(base).get(base + "/readyz", timeout=10).json()["status"] == "ok"
    # The drain leaves rows younger than DRAIN_AFTER_SECONDS to their own publish: this
    # one is made that old rather than waited for.
    OutboxTask.objects.filter(pk=row.pk).update(
        created_at=F("created_at") - timedelta(seconds=DRAIN_AFTER_SECONDS + 1)
    )
    stack.run_outbox_drain_task()
    [message] = smtp_sink.wait_for("new.person@example.com", timeout=60)
    assert re.search(r"/join/[^/\s]+/", message.get_body(("plain",)).get_content())
    row.refresh_from_db()
    assert row.sent_at is not None

    # Exactly once: after another drain, and everything it may have published has run,
    # there is still one email.
    stack.run_outbox_drain_task()
    assert len(smtp_sink.to("new.person@example.com")) == 1
    invitation.refresh_from_db()
    assert invitation.delivered_send == 1
    assert OutboxTask.objects.filter(sent_at__isnull=True).count() == 0
