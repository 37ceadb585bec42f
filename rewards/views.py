from __future__ import annotations

import json
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.models import User
from advocates.selectors import advocate_for_user
from core.fragments import Scope, advocate_scope, fragment
from core.i18n import number
from core.roles import advocate_id_of, advocate_required, manager_required, public
from rewards import selectors
from rewards.forms import (
    CancelForm,
    CatalogFilterForm,
    FulfilForm,
    FulfilmentFilterForm,
    RedeemForm,
    RewardForm,
)
from rewards.fulfilment import configured_providers, provider_for
from rewards.fulfilment.tremendous import SIGNATURE_HEADER
from rewards.models import Redemption, Reward
from rewards.services import catalog, manage
from rewards.services import fulfilment as provider_fulfilment

CATALOG_PAGE_SIZE = 24
MANAGE_PAGE_SIZE = 25
QUEUE_PAGE_SIZE = 20
MY_REDEMPTIONS_PAGE_SIZE = 20


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Advocates ------------------------------------------------------------------------


# What the catalog shows besides the advocate's own data (their balance, groups and
# limits used): the rewards, their prices and stock (core.fragments).
CATALOG_SCOPES = (Scope.REWARDS,)
CATALOG_BODY = "rewards/partials/catalog_body.html"


@advocate_required
def reward_catalog(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The catalog as I see it, or only its results for htmx (a kind, a page); cached per
    advocate and page until the catalog or my balance changes (core.fragments)."""
    partial = "#results" if request.htmx else ""

    def body(extra: dict) -> str:
        advocate = advocate_for_user(request.user)
        filters = CatalogFilterForm(request.GET or None)
        kind = filters.cleaned_data["kind"] if filters.is_valid() else ""
        rewards = selectors.catalog_for_advocate(advocate=advocate, kind=kind)
        page = Paginator(rewards, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "advocate": advocate,
            "filters": filters,
            "page": page,
            "querystring": _querystring(request),
            "Rank": selectors.CatalogRank,
            "kind": kind,
            "kinds": Reward.Kind.choices,
        }
        return render_to_string(CATALOG_BODY + partial, context | extra, request)

    # advocate_required: an active advocate, so an id.
    scopes = (advocate_scope(cast("int", advocate_id_of(request.user))), *CATALOG_SCOPES)
    content = fragment(request, "rewards:catalog" + partial, body, scopes=scopes)
    if request.htmx:
        return HttpResponse(content)
    return render(request, "rewards/catalog.html", {"body": content})


@advocate_required
@require_http_methods(["GET", "POST"])
def reward_redeem(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step (cost, balance after, shipping). POST: redeem.

    When the advocate redeemed this reward minutes ago, the page says so and redeeming
    again takes the "Yes, redeem again" form (``again=1``); a POST without it creates
    nothing and shows the page with that question.
    """
    advocate = advocate_for_user(request.user)
    try:
        reward = selectors.reward_for_advocate(advocate_id=advocate.pk, pk=pk)
    except Reward.DoesNotExist:
        raise Http404("No such reward.") from None
    form = RedeemForm(request.POST or None, reward=reward)
    error = ""
    recent: Redemption | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = catalog.reward_redeem(
                reward_id=reward.pk,
                advocate_id=advocate.pk,
                idempotency_key=data["token"],
                shipping_name=data.get("shipping_name", ""),
                shipping_address=data.get("shipping_address", ""),
                shipping_phone=data.get("shipping_phone", ""),
                repeat_confirmed=data["again"],
            )
        except catalog.RepeatNotConfirmed as unconfirmed:
            recent = unconfirmed.recent
        except catalog.RedemptionError as refused:
            error = str(refused)
            reward.refresh_from_db()
            advocate.refresh_from_db(fields=["balance"])
        else:
            if result.created:
                messages.success(
                    request,
                    _(
                        "Redeemed “%(reward)s” for %(points)s points. "
                        "We will email you as it moves along."
                    )
                    % {"reward": reward.name, "points": number(reward.points_cost)},
                )
            return redirect("rewards:redemption", pk=result.redemption.pk)
    if not error and not reward.is_available():
        error = _("“%(reward)s” is not available right now.") % {"reward": reward.name}
    elif not error and reward.out_of_stock:
        error = _("“%(reward)s” is out of stock.") % {"reward": reward.name}
    if recent is None and not error:
        recent = selectors.redemption_recent_repeat(
            reward_id=reward.pk,
            advocate_id=advocate.pk,
            since=catalog.repeat_window_start(timezone.now()),
        )
    response = render(
        request,
        "rewards/redeem.html",
        {
            "reward": reward,
            "advocate": advocate,
            "form": form,
            "error": error,
            "recent": recent,
            # As humanize's naturaltime says "now": under a second ago.
            "recent_just_now": recent is not None
            and timezone.now() - recent.created_at < timedelta(seconds=1),
            "can_afford": advocate.balance >= reward.points_cost,
            "balance_after": advocate.balance - reward.points_cost,
        },
        status=409 if (error or recent) and request.method == "POST" else 200,
    )
    # Back after redeeming must ask the server again (and so see the redemption just
    # made) rather than show this page, with its old token, from the browser's cache.
    add_never_cache_headers(response)
    return response


@advocate_required
def my_redemptions(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    redemptions = selectors.redemptions_for_advocate(advocate_id=advocate.pk)
    page = Paginator(redemptions, MY_REDEMPTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "rewards/my_redemptions.html",
        {"page": page, "querystring": _querystring(request)},
    )


@advocate_required
def redemption_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    # Scoped to the caller: another advocate's redemption (and its code) is a 404.
    redemption = get_object_or_404(
        selectors.redemptions_for_advocate(advocate_id=advocate.pk), pk=pk
    )
    return render(request, "rewards/redemption.html", {"redemption": redemption})


# --- Managers: the catalog ------------------------------------------------------------


@manager_required
def reward_manage(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.rewards_for_manager(), MANAGE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "rewards/manage.html", {"page": page, "querystring": _querystring(request)}
    )


def _save_reward(form: RewardForm, reward: Reward | None, by: User) -> Reward | None:
    try:
        if reward is None:
            return manage.reward_create(
                image=form.cleaned_data.get("image_upload"), by=by, **form.reward_fields()
            )
        return manage.reward_update(
            reward_id=reward.pk,
            image=form.cleaned_data.get("image_upload"),
            by=by,
            **form.reward_fields(),
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error("image_upload", error)
        return None


@manager_required
@require_http_methods(["GET", "POST"])
def reward_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RewardForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        reward = _save_reward(form, None, request.user)
        if reward is not None:
            messages.success(
                request, _("“%(reward)s” is in the catalog.") % {"reward": reward.name}
            )
            return redirect("rewards:manage")
    return render(
        request,
        "rewards/reward_form.html",
        {"form": form, "reward": None, "provider_configured": bool(configured_providers())},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def reward_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    reward = get_object_or_404(Reward, pk=pk)
    form = RewardForm(request.POST or None, request.FILES or None, instance=reward)
    if request.method == "POST" and form.is_valid():
        saved = _save_reward(form, reward, request.user)
        if saved is not None:
            messages.success(request, _("“%(reward)s” is saved.") % {"reward": saved.name})
            return redirect("rewards:manage")
    return render(
        request,
        "rewards/reward_form.html",
        {"form": form, "reward": reward, "provider_configured": bool(configured_providers())},
    )


@manager_required
@require_POST
def reward_deactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    reward = get_object_or_404(Reward, pk=pk)
    if manage.reward_deactivate(reward_id=reward.pk, by=request.user):
        messages.success(
            request, _("“%(reward)s” is hidden from the catalog.") % {"reward": reward.name}
        )
    else:
        messages.info(request, _("“%(reward)s” was already inactive.") % {"reward": reward.name})
    return redirect("rewards:manage")


# --- Managers: fulfilment -------------------------------------------------------------


# What the fulfilment queue shows: the redemptions with their orders and providers,
# the rewards, the advocates.
FULFILMENT_SCOPES = (Scope.FULFILMENT, Scope.REWARDS, Scope.PEOPLE)
FULFILMENT_BODY = "rewards/partials/fulfilment_body.html"


@manager_required
def fulfilment(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Redemptions to handle, oldest first; the body is cached program-wide until a
    redemption, a reward or an advocate changes (core.fragments)."""
    template = FULFILMENT_BODY + ("#results" if request.htmx else "")

    def body(extra: dict) -> str:
        filters = FulfilmentFilterForm(request.GET or None)
        status = filters.cleaned_data["status"] if filters.is_valid() else ""
        page = Paginator(selectors.fulfilment_queue(status=status), QUEUE_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context = {
            "filters": filters,
            "page": page,
            "querystring": _querystring(request),
            "status": status,
            "statuses": Redemption.Status.choices,
            "fulfil_form": FulfilForm(),
            "cancel_form": CancelForm(),
            "providers": selectors.provider_statuses(),
            **extra,
        }
        return render_to_string(template, context, request)

    name = "rewards:fulfilment" + ("#results" if request.htmx else "")
    content = fragment(request, name, body, scopes=FULFILMENT_SCOPES)
    if request.htmx:
        return HttpResponse(content)
    return render(request, "rewards/fulfilment.html", {"body": content})


def _after_step(
    request: AuthenticatedHttpRequest, redemption: Redemption, message: str, *, ok: bool
) -> HttpResponse:
    """htmx: the updated row; otherwise back to the queue with a message."""
    if request.htmx:
        return render(
            request,
            FULFILMENT_BODY + "#row",
            {
                "redemption": redemption,
                "row_message": message,
                "row_ok": ok,
                "fulfil_form": FulfilForm(),
                "cancel_form": CancelForm(),
            },
        )
    (messages.success if ok else messages.warning)(request, message)
    back = request.POST.get("next", "")
    # Only a path on this site: a bare word would be taken for a URL name by
    # redirect() (NoReverseMatch, a 500), and another host is an open redirect.
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("rewards:fulfilment")


@manager_required
@require_POST
def redemption_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Redemption, pk=pk)
    result = catalog.redemption_approve(redemption_id=pk, by=request.user)
    redemption = _reload(pk)
    if result.changed:
        order = redemption.provider_order_or_none
        if order:
            done = _("Approved #%(id)s. Sent to %(provider)s: its status is above.") % {
                "id": pk,
                "provider": order.provider.title(),
            }
        else:
            done = _("Approved #%(id)s.") % {"id": pk}
        return _after_step(request, redemption, done, ok=True)
    return _after_step(request, redemption, _already(pk, redemption), ok=False)


@manager_required
@require_POST
def redemption_fulfil(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Redemption, pk=pk)
    form = FulfilForm(request.POST)
    if not form.is_valid():
        return _after_step(request, _reload(pk), _("The note is too long."), ok=False)
    try:
        result = catalog.redemption_fulfil(
            redemption_id=pk, note=form.cleaned_data["note"], by=request.user
        )
    except catalog.RedemptionError as refused:
        return _after_step(request, _reload(pk), str(refused), ok=False)
    redemption = _reload(pk)
    if result.changed:
        return _after_step(request, redemption, _("Fulfilled #%(id)s.") % {"id": pk}, ok=True)
    return _after_step(request, redemption, _already(pk, redemption), ok=False)


@manager_required
@require_POST
def redemption_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Redemption, pk=pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        result = catalog.redemption_cancel(redemption_id=pk, reason=reason, by=request.user)
    except catalog.RedemptionError as refused:
        return _after_step(request, _reload(pk), str(refused), ok=False)
    redemption = _reload(pk)
    if result.changed:
        return _after_step(
            request,
            redemption,
            _("Cancelled #%(id)s; %(points)s points refunded.")
            % {"id": pk, "points": number(redemption.points)},
            ok=True,
        )
    return _after_step(request, redemption, _already(pk, redemption), ok=False)


def _already(pk: int, redemption: Redemption) -> str:
    """A step that changed nothing: where the redemption stands."""
    return _("#%(id)s is %(status)s.") % {
        "id": pk,
        "status": Redemption.STATUS_IN_SENTENCE[Redemption.Status(redemption.status)],
    }


def _reload(pk: int) -> Redemption:
    return selectors.fulfilment_queue_item(pk=pk)


@manager_required
@require_POST
def redemption_provider_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Order a redemption whose provider order failed again (after a top-up, say)."""
    get_object_or_404(Redemption, pk=pk)
    if provider_fulfilment.provider_order_retry(redemption_id=pk, by=request.user):
        return _after_step(request, _reload(pk), _("Ordering #%(id)s again.") % {"id": pk}, ok=True)
    return _after_step(
        request, _reload(pk), _("#%(id)s has no failed order to retry.") % {"id": pk}, ok=False
    )


# --- The provider's webhook -----------------------------------------------------------


@public
@csrf_exempt
@require_POST
def tremendous_webhook(request: HttpRequest) -> HttpResponse:
    """Tremendous's events (delivery succeeded or failed, reward or order canceled).

    404 until Tremendous is configured with a webhook secret; 401 for a missing or wrong
    signature and 400 for a body that is not an event, changing nothing either way.
    """
    provider = provider_for("tremendous")
    if provider is None or not settings.TREMENDOUS_WEBHOOK_SECRET:
        raise Http404("Tremendous is not configured.")
    if not provider.webhook_verify(
        body=request.body, signature=request.headers.get(SIGNATURE_HEADER, "")
    ):
        return HttpResponse("Bad or missing signature.", status=401, content_type="text/plain")
    try:
        data = json.loads(request.body)
        event = str(data["event"])
        resource_id = str(data["payload"]["resource"]["id"])
    except (ValueError, KeyError, TypeError):
        return HttpResponse("Not a Tremendous event.", status=400, content_type="text/plain")
    result = provider_fulfilment.provider_event_apply(
        provider="tremendous", event=event, resource_id=resource_id
    )
    return JsonResponse({"result": result})
