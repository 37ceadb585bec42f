"""A real Celery worker on Redis delivers an invitation email through real SMTP.

The worker is a `celery worker` subprocess (see the `celery_worker_process` fixture in
tests/conftest.py) reading the committed test database; the email lands in an aiosmtpd
sink. Skipped, with the reason, without REDIS_URL and a PostgreSQL DATABASE_URL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.urls import reverse

from advocates.models import Invitation
from advocates.services import InvitationLinkUsed, invitation_create, invitation_from_token
from tests import factories

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_until(condition: Callable[[], bool], *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _delivered_send(email: str) -> int:
    return Invitation.objects.values_list("delivered_send", flat=True).get(email=email)


def _join_link(text: str) -> str:
    links = re.findall(r"https?://\S+/join/[^/\s]+/", text)
    assert len(set(links)) == 1, f"expected one join link in:\n{text}"
    return links[0]


def test_worker_emails_the_invitation_once_after_commit(celery_worker_process, smtp_sink) -> None:
    rep = factories.RepFactory(first_name="Ravi", last_name="Rao")

    invitation = invitation_create(email="New.Person@Example.com", invited_by=rep)

    [message] = smtp_sink.wait_for("new.person@example.com")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = _join_link(text)
    assert link in html
    # The link in the email is this invitation's live link, and it opens the join page.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation_from_token(token).pk == invitation.pk
    assert link.endswith(reverse("advocates:accept", kwargs={"token": token}))
    # The sink has the message before the worker hears "250" and records the delivery.
    _wait_until(lambda: _delivered_send("new.person@example.com") == 1)
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    # Nothing else was sent: one invitation, one email.
    assert len(smtp_sink.messages) == 1


def test_reinviting_sends_a_new_link_and_the_old_one_stops_working(
    celery_worker_process, smtp_sink
) -> None:
    rep = factories.RepFactory()
    invitation_create(email="twice@example.com", invited_by=rep)
    smtp_sink.wait_for("twice@example.com")

    invitation_create(email="twice@example.com", invited_by=rep)
    messages = smtp_sink.wait_for("twice@example.com", count=2)

    assert len(messages) == 2
    old, new = (_join_link(m.get_body(preferencelist=("plain",)).get_content()) for m in messages)
    assert old != new
    _wait_until(lambda: _delivered_send("twice@example.com") == 2)
    old_token = old.rstrip("/").rsplit("/", 1)[1]
    new_token = new.rstrip("/").rsplit("/", 1)[1]
    assert invitation_from_token(new_token).email == "twice@example.com"
    with pytest.raises(InvitationLinkUsed, match="newer invitation"):
        invitation_from_token(old_token)
