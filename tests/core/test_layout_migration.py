"""A database made before the core/console apps existed keeps every row through the
move: the audit log and the outbox (from advocates), program settings and prospect
events (from campaigns) are found through core.models and console.models with the same
ids and values, their content types follow them, and the move can be undone and done
again. Runs on SQLite and on PostgreSQL (CI).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from advocates.models import Advocate
from console import models as console_models
from core import models as core_models
from core import roles

BEFORE_THE_MOVE = [
    ("advocates", "0009_matching_indexes"),
    ("campaigns", "0002_kinds_triggers_prospect_events"),
    ("core", None),
    ("console", None),
]
# (old app, new app, model): the models the move carried.
MOVED = [
    ("advocates", "core", "auditentry"),
    ("advocates", "core", "outboxtask"),
    ("campaigns", "core", "programsettings"),
    ("campaigns", "console", "prospectevent"),
    ("campaigns", "console", "prospecteventsuggestion"),
]


def _migrate(targets):
    """Migrate to ``targets``; the project state reached (its ``apps`` are the
    historical models, rendered only when asked for)."""
    return MigrationExecutor(connection).migrate(targets)


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _content_type_ids() -> dict[tuple[str, str], int]:
    return {
        (ct.app_label, ct.model): ct.pk
        for ct in ContentType.objects.filter(model__in=[model for _old, _new, model in MOVED])
    }


def _handed_back(moved_types: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return {(old, model): moved_types[(new, model)] for old, new, model in MOVED}


def _old_rows(apps) -> dict[str, object]:
    """Rows written through the historical models of the layout before the move."""
    user_model = apps.get_model("advocates", "User")
    rep = user_model.objects.create(email="rep-before-move@example.com")
    advocate_user = user_model.objects.create(email="ada-before-move@example.com")
    advocate = apps.get_model("advocates", "Advocate").objects.create(
        user=advocate_user, status="active"
    )
    referral = apps.get_model("referrals", "Referral").objects.create(
        advocate=advocate,
        method="email",
        referred_name="Pat Prospect",
        referred_email="pat@prospect.example",
    )
    audit = apps.get_model("advocates", "AuditEntry").objects.create(
        actor=rep,
        action="referral.created",
        target_type="advocates.outboxtask",
        target_id="7",
        target_repr="an outbox task",
        detail={"why": "before the move"},
    )
    other_audit = apps.get_model("advocates", "AuditEntry").objects.create(
        action="settings.changed", target_type="campaigns.programsettings", target_id="1"
    )
    outbox = apps.get_model("advocates", "OutboxTask").objects.create(
        task="campaigns.send_batch", args=[1, 2], kwargs={"batch": 3}, attempts=2
    )
    program_model = apps.get_model("campaigns", "ProgramSettings")
    program_model.objects.all().delete()
    program = program_model.objects.create(
        pk=1, name="Old program", primary_color="#123456", fatigue_cap_per_week=5, updated_by=rep
    )
    event = apps.get_model("campaigns", "ProspectEvent").objects.create(
        domain="prospect.example",
        kind="funding_round",
        occurred_on=dt.date(2026, 3, 4),
        imported_by=rep,
    )
    suggestion = apps.get_model("campaigns", "ProspectEventSuggestion").objects.create(
        event=event, rep=rep, referral=referral, emailed_at=timezone.now()
    )
    return {
        "rep": rep.pk,
        "referral": referral.pk,
        "audit": audit,
        "other_audit": other_audit,
        "outbox": outbox,
        "program": program,
        "event": event,
        "suggestion": suggestion,
    }


def _assert_found_through_the_new_apps(old: dict[str, object]) -> None:
    audit = core_models.AuditEntry.objects.get(pk=old["audit"].pk)
    assert (audit.actor_id, audit.action, audit.target_id, audit.target_repr, audit.detail) == (
        old["rep"],
        "referral.created",
        "7",
        "an outbox task",
        {"why": "before the move"},
    )
    assert audit.created_at == old["audit"].created_at
    # Audit entries name their target by app: the moved models' new app.
    assert audit.target_type == "core.outboxtask"
    other = core_models.AuditEntry.objects.get(pk=old["other_audit"].pk)
    assert other.target_type == "core.programsettings"

    outbox = core_models.OutboxTask.objects.get(pk=old["outbox"].pk)
    assert (outbox.task, outbox.args, outbox.kwargs, outbox.attempts, outbox.sent_at) == (
        "campaigns.send_batch",
        [1, 2],
        {"batch": 3},
        2,
        None,
    )

    program = core_models.ProgramSettings.objects.get(pk=old["program"].pk)
    assert (program.name, program.primary_color, program.fatigue_cap_per_week) == (
        "Old program",
        "#123456",
        5,
    )
    assert program.updated_by_id == old["rep"]

    event = console_models.ProspectEvent.objects.get(pk=old["event"].pk)
    assert (event.domain, event.kind, event.occurred_on, event.imported_by_id) == (
        "prospect.example",
        "funding_round",
        dt.date(2026, 3, 4),
        old["rep"],
    )
    suggestion = console_models.ProspectEventSuggestion.objects.get(pk=old["suggestion"].pk)
    assert (
        suggestion.event_id,
        suggestion.rep_id,
        suggestion.referral_id,
        suggestion.request_id,
    ) == (event.pk, old["rep"], old["referral"], None)
    assert suggestion.emailed_at == old["suggestion"].emailed_at
    assert list(event.suggestions.all()) == [suggestion]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_found_through_core_and_console() -> None:
    latest = _latest()
    moved_types = _content_type_ids()
    assert set(moved_types) == {(new, model) for _old, new, model in MOVED}
    try:
        apps = _migrate(BEFORE_THE_MOVE).apps
        # Undoing the move hands the content types back to the old apps (same rows).
        assert _content_type_ids() == _handed_back(moved_types)
        old = _old_rows(apps)

        _migrate(latest)
        assert _content_type_ids() == moved_types
        _assert_found_through_the_new_apps(old)

        # Back and forward once more: nothing lost, nothing duplicated.
        _migrate(BEFORE_THE_MOVE)
        assert _content_type_ids() == _handed_back(moved_types)
        audit_model = apps.get_model("advocates", "AuditEntry")
        assert audit_model.objects.get(pk=old["audit"].pk).target_type == "advocates.outboxtask"
        _migrate(latest)
        assert _content_type_ids() == moved_types
        _assert_found_through_the_new_apps(old)
        assert (
            core_models.AuditEntry.objects.filter(
                pk__in=[old["audit"].pk, old["other_audit"].pk]
            ).count()
            == 2
        )
    except BaseException:
        _migrate(latest)  # the next tests need the latest schema
        raise


def test_the_active_status_core_names_is_the_advocates_active_status() -> None:
    assert roles.ADVOCATE_ACTIVE == Advocate.Status.ACTIVE
