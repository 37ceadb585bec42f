"""core.events.listen: a higher floor hears every emit of a type, after commit only."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db import transaction

from core import events

HEARD: list[tuple[str, list[dict]]] = []


@shared_task(name="tests.core.heard")
def heard(event_type: str, items: list[dict]) -> None:
    HEARD.append((event_type, items))


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch):
    state = {"active": True}
    monkeypatch.setattr(events, "_LISTENERS", {})
    events.listen("referral.created", task="tests.core.heard", active=lambda: state["active"])
    HEARD.clear()
    return state


@pytest.mark.django_db(transaction=True)
def test_a_committed_emit_is_heard_with_its_items(listener) -> None:
    with transaction.atomic():
        events.emit_many("referral.created", ({"referral": n} for n in (1, 2)))
        assert not HEARD  # not before the commit
    assert HEARD == [("referral.created", [{"referral": 1}, {"referral": 2}])]
    assert events.wanted("referral.created")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_emit_is_not_heard(listener) -> None:
    def write_then_fail() -> None:
        with transaction.atomic():
            events.emit("referral.created", {"referral": 1})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert not HEARD


@pytest.mark.django_db(transaction=True)
def test_an_inactive_listener_is_not_queued_and_other_types_are_not_heard(listener) -> None:
    events.emit("referral.stage_changed", {"referral": 1})
    listener["active"] = False
    events.emit("referral.created", {"referral": 1})
    assert not HEARD
    assert not events.wanted("referral.created")


def test_an_unknown_event_type_cannot_be_listened_to() -> None:
    with pytest.raises(ValueError, match="Unknown event type"):
        events.listen("referral.teleported", task="tests.core.heard", active=lambda: True)
