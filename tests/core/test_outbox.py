"""The transactional outbox: work enqueued by an action commits with it, and survives a
broker that is down (core.outbox). The real-Redis version of this story is
tests/integration/test_redis_down.py; here the broker is replaced at its one seam."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from advocates.models import Invitation
from advocates.services import invitation_create
from advocates.tasks import invitation_send
from config.celery_app import app
from core import outbox
from core.models import OutboxTask
from tests import factories

pytestmark = pytest.mark.django_db


class Broker:
    """Stands in for Redis at ``outbox._publish``: records messages, or is down."""

    def __init__(self) -> None:
        self.down = False
        self.published: list[tuple[str, list, dict]] = []

    def __call__(self, name: str, args: list, kwargs: dict) -> None:
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append((name, args, kwargs))


@pytest.fixture
def broker(monkeypatch) -> Iterator[Broker]:
    fake = Broker()
    monkeypatch.setattr(outbox, "_publish", fake)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield fake
    app.conf.task_always_eager = saved


def _age(seconds: float) -> None:
    OutboxTask.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_the_task_is_published_after_commit_and_its_row_marked_sent(
    broker, django_capture_on_commit_callbacks
) -> None:
    rep = factories.RepFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(email="new@example.com", invited_by=rep)
        # Inside the action's transaction: recorded, not yet published.
        assert broker.published == []
        assert OutboxTask.objects.get().sent_at is None

    assert broker.published == [("advocates.tasks.invitation_send", [invitation.pk, 1], {})]
    row = OutboxTask.objects.get()
    assert row.sent_at is not None
    assert row.attempts == 1


def test_a_rolled_back_action_leaves_no_outbox_row_and_publishes_nothing(
    broker, django_capture_on_commit_callbacks
) -> None:
    rep = factories.RepFactory()

    def failing_action() -> None:
        with transaction.atomic():
            invitation_create(email="new@example.com", invited_by=rep)
            raise RuntimeError("the action failed after enqueueing")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError, match="failed after enqueueing"),
    ):
        failing_action()

    assert not Invitation.objects.exists()
    assert not OutboxTask.objects.exists()
    assert broker.published == []


def test_with_the_broker_down_the_action_succeeds_and_the_drain_sends_it_later(
    broker, django_capture_on_commit_callbacks
) -> None:
    rep = factories.RepFactory()
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(email="new@example.com", invited_by=rep)

    assert Invitation.objects.filter(pk=invitation.pk).exists()
    row = OutboxTask.objects.get()
    assert row.sent_at is None
    assert row.attempts == 1
    assert "Connection refused" in row.last_error

    # Still down: the drain tries the oldest row, records why, and stops.
    _age(60)
    assert outbox.outbox_drain() == outbox.DrainResult(sent=0, failed=1, waiting=1)
    assert OutboxTask.objects.get().attempts == 2

    broker.down = False
    assert outbox.outbox_drain() == outbox.DrainResult(sent=1, failed=0, waiting=0)
    assert broker.published == [("advocates.tasks.invitation_send", [invitation.pk, 1], {})]
    # A second drain finds nothing: the row is sent once.
    assert outbox.outbox_drain() == outbox.DrainResult(sent=0, failed=0, waiting=0)
    assert len(broker.published) == 1


def test_the_drain_leaves_young_rows_to_their_own_publish(broker) -> None:
    OutboxTask.objects.create(task="advocates.tasks.invitation_send", args=[1, 1])

    assert outbox.outbox_drain() == outbox.DrainResult(sent=0, failed=0, waiting=1)
    assert broker.published == []
    _age(outbox.DRAIN_AFTER_SECONDS + 1)
    assert outbox.outbox_drain().sent == 1


def test_the_drain_sends_oldest_first_and_forgets_rows_sent_a_week_ago(broker) -> None:
    now = timezone.now()
    old_sent = OutboxTask.objects.create(
        task="x", created_at=now - timedelta(days=9), sent_at=now - timedelta(days=8)
    )
    recent_sent = OutboxTask.objects.create(task="x", sent_at=now - timedelta(days=1))
    second = OutboxTask.objects.create(task="second", created_at=now - timedelta(minutes=1))
    first = OutboxTask.objects.create(task="first", created_at=now - timedelta(minutes=2))

    outbox.outbox_drain()

    assert [name for name, _, _ in broker.published] == ["first", "second"]
    assert not OutboxTask.objects.filter(pk=old_sent.pk).exists()
    assert OutboxTask.objects.filter(pk__in=[recent_sent.pk, first.pk, second.pk]).count() == 3


def test_in_eager_mode_the_task_just_runs_after_commit_without_a_row(
    django_capture_on_commit_callbacks,
) -> None:
    assert app.conf.task_always_eager  # the embedded mode and the test suite
    rep = factories.RepFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(email="new@example.com", invited_by=rep)

    assert not OutboxTask.objects.exists()
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_the_beat_drains_the_outbox_every_30_seconds() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["outbox-drain"]
    assert entry["task"] == outbox_task_name()
    assert entry["schedule"] == 30


def outbox_task_name() -> str:
    from core.tasks import outbox_drain

    return outbox_drain.name


def test_the_drain_task_reports_what_it_did(broker) -> None:
    from core.tasks import outbox_drain

    OutboxTask.objects.create(task=invitation_send.name, args=[1, 1])
    _age(60)
    assert outbox_drain.apply().get() == "sent 1, failed 0, waiting 0"


def test_activities_are_enqueued_once_per_advocate_in_batches(monkeypatch) -> None:
    from core import outbox

    calls: list[tuple] = []
    monkeypatch.setattr(outbox, "ACTIVITY_BATCH", 2)
    monkeypatch.setattr(outbox, "enqueue_after_commit", lambda *args: calls.append(args))
    outbox.activities_after_commit(advocate_ids=[3, 1, 2, 3, 5])
    assert calls == [
        (outbox.ACTIVITY_MANY_TASK, [1, 2]),
        (outbox.ACTIVITY_MANY_TASK, [3, 5]),
    ]
