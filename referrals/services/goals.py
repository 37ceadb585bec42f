"""Writes for the referral revenue goals (one per calendar quarter, set by managers)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from advocates.models import User
from core.audit import audit_record
from referrals.models import RevenueGoal
from referrals.services import ReferralError


def revenue_goal_set(*, year: int, quarter: int, amount: Decimal, by: User) -> RevenueGoal:
    """Set (or change) the quarter's goal; ReferralError, nothing saved, on bad input."""
    if not 2000 <= year <= 2100 or not 1 <= quarter <= 4:
        raise ReferralError(gettext("Choose a quarter."))
    if not amount.is_finite() or amount < 0:
        raise ReferralError(gettext("The goal must be an amount of 0 or more."))
    with transaction.atomic():
        goal, _ = RevenueGoal.objects.update_or_create(
            year=year,
            quarter=quarter,
            defaults={"amount": amount, "updated_by": by, "updated_at": timezone.now()},
        )
        audit_record(
            actor=by,
            action="referral.revenue_goal",
            target=goal,
            detail={"quarter": f"{year}-Q{quarter}", "amount": str(amount)},
        )
    return goal
