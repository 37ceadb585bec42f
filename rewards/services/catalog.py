"""Writes for redemptions: redeeming and fulfilment (a manager's changes to the rewards
themselves are services.manage; the ledger itself is services.ledger).

Lock order, everywhere in this module: the reward row first, then the advocate row.
``reward_redeem`` needs both (stock is on the reward, the balance on the advocate) and
``redemption_cancel`` needs both (stock goes back, points are refunded). The ledger's
services lock the advocate row on their own, so a path that let the ledger lock the
advocate first and then locked the reward would wait for a redeem holding the reward
and waiting for the advocate: a deadlock. Taking the reward first in every path that
needs both means one of two such transactions always waits before holding anything the
other needs. Awards and spends elsewhere lock only the advocate, never a reward, so they
cannot close a cycle either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.models import Advocate, User
from advocates.selectors import is_group_member
from core import events, fragments
from core.audit import audit_record
from core.i18n import lazy_text, number, site_text
from core.outbox import activity_after_commit, enqueue_after_commit
from rewards.fulfilment import provider_for
from rewards.models import ProviderOrder, Redemption, Reward
from rewards.selectors import redemption_recent_repeat, redemptions_counted_for_limit
from rewards.services.ledger import InsufficientPoints, points_reverse, points_spend

# A second redemption of the same reward this soon after the first is more likely a
# Back button and a second click than a wish for two, so the advocate is asked again.
REPEAT_WARNING_MINUTES = 10


class RedemptionError(Exception):
    """A redemption or fulfilment step that was refused; the message is fit to show."""


class RewardUnavailable(RedemptionError):
    pass


class OutOfStock(RedemptionError):
    pass


class OverLimit(RedemptionError):
    pass


class NotEnoughPoints(RedemptionError, InsufficientPoints):
    """Also an InsufficientPoints, so callers of the ledger's error catch it too."""


class ShippingRequired(RedemptionError):
    pass


class TokenAlreadyUsed(RedemptionError):
    pass


class FulfilmentNoteRequired(RedemptionError):
    pass


class ProviderOrderInFlight(RedemptionError):
    """A provider is ordering or delivering it: fulfilling or refunding by hand would pay twice."""


class RepeatNotConfirmed(RedemptionError):
    """The advocate redeemed this reward moments ago and has not said they want another."""

    def __init__(self, recent: Redemption) -> None:
        super().__init__(_("You redeemed this a moment ago. Redeem it again?"))
        self.recent = recent


def repeat_window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=REPEAT_WARNING_MINUTES)


@dataclass(frozen=True)
class RedeemResult:
    redemption: Redemption
    created: bool


@dataclass(frozen=True)
class StepResult:
    """The outcome of a fulfilment step: ``changed`` is False for a repeat or a lost race."""

    redemption: Redemption
    changed: bool


PROVIDER_ORDER_TASK = "rewards.tasks.provider_order_place"


def provider_external_id(redemption_id: int) -> str:
    """The provider's idempotency key for a redemption: one order per redemption, ever."""
    return f"vouch-redemption-{redemption_id}"


# --- Redeeming ------------------------------------------------------------------------


# By name: rewards.tasks imports the services, so the services do not import it back.
REDEMPTION_NOTIFY_TASK = "rewards.tasks.redemption_notify"


def _queue_email(redemption_id: int, step: str) -> None:
    enqueue_after_commit(REDEMPTION_NOTIFY_TASK, redemption_id, step)


def reward_redeem(
    *,
    reward_id: int,
    advocate_id: int,
    idempotency_key: str,
    shipping_name: str = "",
    shipping_address: str = "",
    shipping_phone: str = "",
    repeat_confirmed: bool = True,
) -> RedeemResult:
    """Redeem one unit of a reward for its points, in one transaction.

    ``idempotency_key`` is the confirmation form's one-time token: submitting it again
    returns the first redemption and changes nothing. Every refusal raises a
    RedemptionError before anything is written.

    ``repeat_confirmed=False`` (what the confirmation page passes until the advocate
    says yes) refuses with RepeatNotConfirmed when the advocate redeemed this reward in
    the last ``REPEAT_WARNING_MINUTES``: a fresh token from a page reached with Back is
    a new token, so the idempotency key alone does not catch it.
    """
    idempotency_key = idempotency_key.strip()
    if not idempotency_key:
        raise RedemptionError(_("This confirmation has expired. Open the reward and try again."))
    existing = _existing_for_key(idempotency_key, advocate_id)
    if existing is not None:
        return RedeemResult(redemption=existing, created=False)
    try:
        with transaction.atomic():
            # Reward first, then advocate: see the module docstring. The reward lock
            # serialises every redemption of this reward (stock and limit checks); the
            # advocate lock serialises this advocate's balance and double submits.
            reward = Reward.objects.select_for_update().get(pk=reward_id)
            advocate = (
                Advocate.objects.select_for_update()
                .only("id", "balance", "status")
                .get(pk=advocate_id)
            )
            # A double submit racing this one waited on the locks above; it finds the
            # first redemption now.
            existing = _existing_for_key(idempotency_key, advocate_id)
            if existing is not None:
                return RedeemResult(redemption=existing, created=False)
            now = timezone.now()
            if advocate.status != Advocate.Status.ACTIVE:
                raise RedemptionError(_("Only active members can redeem rewards."))
            if not repeat_confirmed:
                # Checked under the advocate lock, so two tabs cannot both pass it.
                recent = redemption_recent_repeat(
                    reward_id=reward.pk, advocate_id=advocate_id, since=repeat_window_start(now)
                )
                if recent is not None:
                    raise RepeatNotConfirmed(recent)
            if not reward.is_available(now):
                raise RewardUnavailable(
                    _("“%(reward)s” is not available right now.") % {"reward": reward.name}
                )
            if reward.group_id is not None and not is_group_member(
                advocate_id=advocate_id, group_id=reward.group_id
            ):
                raise RewardUnavailable(
                    _("“%(reward)s” is only for the members of a group.") % {"reward": reward.name}
                )
            if reward.out_of_stock:
                raise OutOfStock(_("“%(reward)s” is out of stock.") % {"reward": reward.name})
            if reward.limit_count:
                used = redemptions_counted_for_limit(
                    reward=reward, advocate_id=advocate_id, now=now
                )
                if used >= reward.limit_count:
                    raise OverLimit(
                        _("You can redeem “%(reward)s” %(limit)s, and you have reached that limit.")
                        % {"reward": reward.name, "limit": reward.limit_label}
                    )
            if advocate.balance < reward.points_cost:
                raise NotEnoughPoints(
                    _(
                        "“%(reward)s” costs %(cost)s points and your balance "
                        "is %(balance)s: %(missing)s to go."
                    )
                    % {
                        "reward": reward.name,
                        "cost": number(reward.points_cost),
                        "balance": number(advocate.balance),
                        "missing": number(reward.points_cost - advocate.balance),
                    }
                )
            if reward.needs_shipping and not (shipping_name.strip() and shipping_address.strip()):
                raise ShippingRequired(_("Enter the name and address to ship it to."))
            if reward.stock is not None:
                # Under the reward lock this always matches; the condition keeps the
                # database, not just this code, from taking a unit that is not there.
                taken = Reward.objects.filter(pk=reward.pk, stock__gt=0).update(
                    stock=F("stock") - 1, updated_at=now
                )
                if not taken:
                    raise OutOfStock(_("“%(reward)s” is out of stock.") % {"reward": reward.name})
            redemption = Redemption.objects.create(
                reward=reward,
                advocate_id=advocate_id,
                points=reward.points_cost,
                idempotency_key=idempotency_key,
                shipping_name=shipping_name.strip() if reward.needs_shipping else "",
                shipping_address=shipping_address.strip() if reward.needs_shipping else "",
                shipping_phone=shipping_phone.strip() if reward.needs_shipping else "",
                created_at=now,
            )
            try:
                spend = points_spend(
                    advocate_id=advocate_id,
                    amount=reward.points_cost,
                    reason=lazy_text(
                        gettext_lazy("Redeemed: %(reward)s"), reward=lambda: reward.name
                    ),
                    idempotency_key=f"redemption:{redemption.pk}:spend",
                    source=redemption,
                )
            except InsufficientPoints as error:  # cannot happen under the lock; be safe
                raise NotEnoughPoints(str(error)) from None
            redemption.spend_entry = spend.entry
            redemption.save(update_fields=["spend_entry"])
            _queue_email(redemption.pk, Redemption.Status.REQUESTED)
            events.emit(
                "reward.redeemed",
                {
                    "redemption": redemption.pk,
                    "reward": reward.pk,
                    "reward_name": site_text(reward, "name"),
                    "advocate": advocate_id,
                    "points": redemption.points,
                },
            )
            # Redeeming is activity (last_active_at); levels and badges check cheaply.
            activity_after_commit(advocate_id=advocate_id)
            return RedeemResult(redemption=redemption, created=True)
    except IntegrityError:
        # The same token used at this moment by a request that did not wait on our
        # locks (another advocate's row): the first write wins.
        existing = _existing_for_key(idempotency_key, advocate_id)
        if existing is None:
            raise
        return RedeemResult(redemption=existing, created=False)


def _existing_for_key(idempotency_key: str, advocate_id: int) -> Redemption | None:
    existing = Redemption.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and existing.advocate_id != advocate_id:
        raise TokenAlreadyUsed(_("This confirmation was already used. Open the reward again."))
    return existing


# --- Fulfilment -----------------------------------------------------------------------


def _step(
    *,
    redemption_id: int,
    from_statuses: tuple[str, ...],
    to_status: str,
    by: User | None,
    **fields: object,
) -> StepResult:
    """Move a redemption from one of ``from_statuses`` to ``to_status``, once.

    The conditional update's row count decides: a second click, a retry or a racing
    manager finds the status already moved and changes nothing.
    """
    now = timezone.now()
    stamps: dict[str, str] = {
        Redemption.Status.APPROVED: "approved_at",
        Redemption.Status.FULFILLED: "fulfilled_at",
        Redemption.Status.CANCELLED: "cancelled_at",
    }
    stamp = stamps[to_status]
    changed = Redemption.objects.filter(pk=redemption_id, status__in=from_statuses).update(
        status=to_status, handled_by=by, updated_at=now, **{stamp: now}, **fields
    )
    if changed:
        _queue_email(redemption_id, to_status)
    redemption = Redemption.objects.get(pk=redemption_id)
    if changed:
        fragments.advocates_changed([redemption.advocate_id])
        fragments.scopes_changed(fragments.Scope.FULFILMENT)  # the console's queue
    if changed and by is not None:
        # Not the fulfilment note: it may hold a gift-card code.
        audit_record(
            actor=by,
            action=f"redemption.{_AUDIT_VERBS[to_status]}",
            target=redemption,
            detail={
                "advocate_id": redemption.advocate_id,
                "reward_id": redemption.reward_id,
                "points": redemption.points,
                **({"reason": fields["cancel_reason"]} if fields.get("cancel_reason") else {}),
            },
        )
    return StepResult(redemption=redemption, changed=bool(changed))


_AUDIT_VERBS: dict[str, str] = {
    Redemption.Status.APPROVED: "approve",
    Redemption.Status.FULFILLED: "fulfil",
    Redemption.Status.CANCELLED: "cancel",
}


def redemption_approve(*, redemption_id: int, by: User | None = None) -> StepResult:
    """Approve a requested redemption; a provider-backed reward is then ordered there.

    The provider order row commits with the approval, and the task that places it runs
    after the commit (rewards.services.fulfilment): a reward whose provider is not
    configured stays in the manual queue, approved.
    """
    with transaction.atomic():
        result = _step(
            redemption_id=redemption_id,
            from_statuses=(Redemption.Status.REQUESTED,),
            to_status=Redemption.Status.APPROVED,
            by=by,
        )
        if result.changed:
            _provider_order_open(result.redemption)
        return result


def _provider_order_open(redemption: Redemption) -> ProviderOrder | None:
    reward = Reward.objects.only("id", "fulfilment_provider").get(pk=redemption.reward_id)
    if not reward.fulfilment_provider or provider_for(reward.fulfilment_provider) is None:
        return None
    order, created = ProviderOrder.objects.get_or_create(
        redemption=redemption,
        defaults={
            "provider": reward.fulfilment_provider,
            "external_id": provider_external_id(redemption.pk),
        },
    )
    if created:
        enqueue_after_commit(PROVIDER_ORDER_TASK, redemption.pk)
    return order


def _refuse_if_provider_in_flight(redemption_id: int) -> None:
    """Under the provider order's row lock, so a provider step cannot land in between."""
    order = (
        ProviderOrder.objects.select_for_update()
        .filter(redemption_id=redemption_id, state__in=ProviderOrder.IN_FLIGHT)
        .first()
    )
    if order is not None:
        raise ProviderOrderInFlight(
            _(
                "#%(id)s is being ordered through %(provider)s "
                "(%(state)s); it comes back here if that fails."
            )
            % {
                "id": redemption_id,
                "provider": order.provider.title(),
                "state": ProviderOrder.IN_FLIGHT_IN_SENTENCE[ProviderOrder.State(order.state)],
            }
        )


def redemption_fulfil(
    *, redemption_id: int, note: str = "", by: User | None = None, provider: str = ""
) -> StepResult:
    """Mark it fulfilled with a note for the advocate (tracking number, gift-card code).

    A gift card needs its note (the code is the reward), unless ``provider`` delivered it
    (rewards.services.fulfilment): then the provider's own email carries it.
    """
    note = note.strip()
    redemption = Redemption.objects.select_related("reward").get(pk=redemption_id)
    needs_note = redemption.reward.kind == Reward.Kind.GIFT_CARD and not provider
    if needs_note and not note and redemption.is_open:
        raise FulfilmentNoteRequired(
            _("Enter the gift-card code (or a link to it) for the advocate.")
        )
    with transaction.atomic():
        _refuse_if_provider_in_flight(redemption_id)
        result = _step(
            redemption_id=redemption_id,
            from_statuses=Redemption.OPEN_STATUSES,
            to_status=Redemption.Status.FULFILLED,
            by=by,
            fulfilment_note=note[:1000],
        )
        if result.changed:
            # Not the fulfilment note: it may hold a gift-card code.
            events.emit(
                "reward.fulfilled",
                {
                    "redemption": redemption_id,
                    "reward": redemption.reward_id,
                    "advocate": redemption.advocate_id,
                    "points": redemption.points,
                },
            )
        return result


def redemption_cancel(
    *, redemption_id: int, reason: str = "", by: User | None = None
) -> StepResult:
    """Cancel an open redemption: refund its points and give its unit back, once.

    Refused (ProviderOrderInFlight) while a provider is ordering or delivering it.
    """
    reward_id = Redemption.objects.values_list("reward_id", flat=True).get(pk=redemption_id)
    with transaction.atomic():
        # Reward first (module docstring): the ledger locks the advocate in the refund.
        reward = Reward.objects.select_for_update().only("id", "stock").get(pk=reward_id)
        _refuse_if_provider_in_flight(redemption_id)
        result = _step(
            redemption_id=redemption_id,
            from_statuses=Redemption.OPEN_STATUSES,
            to_status=Redemption.Status.CANCELLED,
            by=by,
            cancel_reason=reason.strip()[:255],
        )
        if not result.changed:
            return result
        redemption = result.redemption
        if redemption.spend_entry_id is not None:
            refund = points_reverse(
                entry_id=redemption.spend_entry_id,
                reason=lazy_text(
                    gettext_lazy("Refund: %(reward)s cancelled"),
                    reward=lambda: redemption.reward.name,
                ),
                idempotency_key=f"redemption:{redemption.pk}:refund",
            )
            Redemption.objects.filter(pk=redemption.pk).update(refund_entry=refund.entry)
            redemption.refund_entry = refund.entry
        if reward.stock is not None:
            Reward.objects.filter(pk=reward.pk).update(
                stock=F("stock") + 1, updated_at=timezone.now()
            )
            fragments.scopes_changed(fragments.Scope.REWARDS)  # .update() sends no signal
        return StepResult(redemption=redemption, changed=True)
