"""The migrations that add ``referral_count`` and ``reference_count`` fill them from the
rows already there (referrals 0008, references 0009), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from advocates.models import Advocate

BEFORE_THE_COUNTS = [
    ("advocates", "0015_user_language"),
    ("referrals", "0007_chains_escalation_goals"),
    ("references", "0008_industry_weights_interests"),
]


def _migrate(targets):
    return MigrationExecutor(connection).migrate(targets)


def _rows(apps) -> dict[str, int]:
    """Advocates with referrals and asks, written through the historical models."""
    user_model = apps.get_model("advocates", "User")
    advocate_model = apps.get_model("advocates", "Advocate")
    referral_model = apps.get_model("referrals", "Referral")
    ask_model = apps.get_model("references", "Ask")
    rep = user_model.objects.create(email="rep-before-counts@example.com")
    made = {}
    for name in ("ann", "bob", "cid"):
        user = user_model.objects.create(email=f"{name}-before-counts@example.com")
        made[name] = advocate_model.objects.create(user=user, status="active")
    for i, (name, stage) in enumerate(
        [("ann", "submitted"), ("ann", "lost"), ("ann", "rejected"), ("bob", "rejected")]
    ):
        referral_model.objects.create(
            advocate=made[name],
            method="email",
            referred_name="Pat Prospect",
            referred_email=f"pat{i}@prospect.example",
            stage=stage,
            rejection_reason="invalid" if stage == "rejected" else "",
        )
    request = apps.get_model("references", "ReferenceRequest").objects.create(
        rep=rep,
        prospect_name="Percy",
        prospect_email="percy@prospect.example",
        prospect_company="Acme",
        opportunity_name="Acme rollout",
        opportunity_amount=Decimal(1000),
        opportunity_stage="evaluation",
        call_type="video",
        needed_by=dt.date(2026, 3, 4),
    )
    deadline = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    ask_model.objects.create(
        request=request, advocate=made["cid"], status="completed", deadline=deadline
    )
    ask_model.objects.create(
        request=request, advocate=made["bob"], status="declined", deadline=deadline
    )
    return {name: advocate.pk for name, advocate in made.items()}


@pytest.mark.django_db(transaction=True)
def test_the_counts_are_filled_from_existing_rows() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        made = _rows(_migrate(BEFORE_THE_COUNTS).apps)
        _migrate(latest)
        counts = {
            pk: (made_count, given)
            for pk, made_count, given in Advocate.objects.filter(pk__in=made.values()).values_list(
                "pk", "referral_count", "reference_count"
            )
        }
        assert counts == {made["ann"]: (2, 0), made["bob"]: (0, 0), made["cid"]: (0, 1)}
    except BaseException:
        _migrate(latest)  # the next tests need the latest schema
        raise
