from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.selectors import advocate_for_user
from core import fragments
from core.fragments import advocate_scope, fragment
from core.http import client_ip
from core.i18n import in_sentence
from core.pagination import KeptCountPaginator
from core.roles import (
    Role,
    advocate_id_of,
    advocate_required,
    has_role,
    manager_required,
    public,
    staff_required,
)
from referrals import selectors, services, visitors
from referrals.forms import (
    AdvanceForm,
    AssignForm,
    EmailReferralForm,
    LandingForm,
    LeadForm,
    VerbalForm,
)
from referrals.models import Method, Referral, RejectionReason, Stage
from referrals.services.chains import referral_invite_referred

PAGE_SIZE = 20
LANDING_WINDOW_SECONDS = 600


def _link_urls(link) -> dict[str, str]:
    url = settings.SITE_URL + reverse("referrals:landing", kwargs={"code": link.code})
    social = f"{url}?via=social"
    text = gettext("I recommend %(program)s: here is my referral link.") % {
        "program": settings.PROGRAM_NAME
    }
    return {
        "url": url,
        "social_url": social,
        "card_url": settings.SITE_URL
        + reverse("referrals:landing", kwargs={"code": link.card_code}),
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": social}),
        "x": "https://x.com/intent/post?" + urlencode({"text": text, "url": social}),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": social}),
    }


# --- Advocates --------------------------------------------------------------------------


@advocate_required
def tracker(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My link, my referrals and what they earned me; the body is cached per advocate and
    page until one of them changes (or the program's reward rules: core.fragments)."""

    def body(extra: dict) -> str:
        advocate = advocate_for_user(request.user)
        link = services.referral_link_for(advocate_id=advocate.pk)
        page = Paginator(
            selectors.referrals_for_advocate(advocate_id=advocate.pk), PAGE_SIZE
        ).get_page(request.GET.get("page"))
        context = {
            "advocate": advocate,
            "link": link,
            "urls": _link_urls(link),
            "page": page,
            "next_won": selectors.next_won_reward(advocate_id=advocate.pk),
        }
        return render_to_string("referrals/partials/tracker_body.html", context | extra, request)

    # advocate_required: an active advocate, so an id.
    scopes = [advocate_scope(cast("int", advocate_id_of(request.user)))]
    content = fragment(request, "referrals:tracker", body, scopes=scopes)
    return render(request, "referrals/tracker.html", {"body": content})


@advocate_required
@require_http_methods(["GET", "POST"])
def lead_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                advocate_id=advocate.pk,
                method=Method.LEAD_FORM,
                created_by=request.user,
                **data,
            )
        except services.ReferralError as error:
            form.add_error(None, str(error))
        else:
            _created_message(request, referral)
            return redirect("referrals:tracker")
    return render(request, "referrals/lead_form.html", {"form": form})


def _created_message(request: HttpRequest, referral: Referral) -> None:
    if referral.stage == Stage.REJECTED:
        messages.warning(
            request,
            gettext(
                "%(name)s was already referred recently, so this referral is marked as a "
                "duplicate and will not earn points."
            )
            % {"name": referral.referred_name},
        )
    else:
        messages.success(
            request,
            gettext("Thank you! %(name)s is referred; follow it here.")
            % {"name": referral.referred_name},
        )


def _default_email_body(*, program: str, url: str, sender: str) -> str:
    """The email an advocate starts from, in their language (they may edit all of it)."""
    return gettext(
        "Hi %(name)s,\n\n"
        "I have been using %(program)s at work and I think it would help you too. The team "
        "there is great to work with; here is a link to talk to them:\n\n"
        "%(url)s\n\n"
        "Best,\n"
        "%(sender)s"
    ) % {
        # Translators: the greeting's name when the colleague's is not known yet ("Hi there").
        "name": pgettext("greeting", "there"),
        "program": program,
        "url": url,
        "sender": sender,
    }


@advocate_required
@require_http_methods(["GET", "POST"])
def email_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    link = services.referral_link_for(advocate_id=advocate.pk)
    url = _link_urls(link)["url"]
    initial = {
        "subject": gettext("An introduction: %(program)s") % {"program": settings.PROGRAM_NAME},
        "body": _default_email_body(program=settings.PROGRAM_NAME, url=url, sender=advocate.name),
    }
    form = EmailReferralForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_email_create(
                advocate_id=advocate.pk, created_by=request.user, **data
            )
        except services.ReferralError as error:
            form.add_error(None, str(error))
        else:
            if referral.stage != Stage.REJECTED:
                messages.success(
                    request,
                    gettext("Your email to %(name)s is on its way. Thank you!")
                    % {"name": referral.referred_name},
                )
            else:
                _created_message(request, referral)
            return redirect("referrals:tracker")
    return render(request, "referrals/email_form.html", {"form": form, "url": url})


@advocate_required
def share(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    link = services.referral_link_for(advocate_id=advocate.pk)
    return render(request, "referrals/share.html", {"link": link, "urls": _link_urls(link)})


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    # Sized by CSS on the card, not by the millimetre size qrcode writes.
    return svg.replace('width="', 'data-w="', 1).replace('height="', 'data-h="', 1)


@advocate_required
def card(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    link = services.referral_link_for(advocate_id=advocate.pk)
    urls = _link_urls(link)
    return render(
        request,
        "referrals/card.html",
        {
            "advocate": advocate,
            "link": link,
            "urls": urls,
            "landing": settings.SITE_URL + reverse("referrals:card_landing"),
            "landing_display": (settings.SITE_URL + reverse("referrals:card_landing")).split(
                "://", 1
            )[-1],
            # The SVG comes from qrcode, built from our own URL: nothing user-typed in it.
            "qr_svg": mark_safe(_qr_svg(urls["card_url"])),
        },
    )


# --- The public landing page ------------------------------------------------------------


def _throttled(request: HttpRequest) -> bool:
    key = f"referrals:landing:{client_ip(request)}"
    cache.add(key, 0, timeout=LANDING_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=LANDING_WINDOW_SECONDS)
        count = 1
    return count > settings.REFERRAL_LANDING_MAX_POSTS


@public
@require_http_methods(["GET", "POST"])
def landing(request: HttpRequest, code: str = "") -> HttpResponse:
    """/r/<code>/ (an advocate's link or card code) and /r/ (type the card code)."""
    link, is_card = selectors.link_by_code(code) if code else (None, False)
    if code and link is None:
        raise Http404("Unknown referral link.")
    via = request.GET.get("via", "") or request.POST.get("via", "")
    given_cookie = ""
    if request.method == "GET" and link is not None and "sent" not in request.GET:
        visitor_ids, given_cookie = visitors.visitor_ids(request)
        services.referral_link_visit(link=link, visitor_ids=visitor_ids)
    initial = {"code": code, "via": "social" if via == "social" else ""}
    if not code and request.GET.get("card"):
        initial["card_code"] = request.GET["card"][:8]
    form = LandingForm(request.POST or None, initial=initial)
    context = {"form": form, "link": link, "is_card": is_card, "code": code}
    if request.method == "GET":
        context["sent"] = "sent" in request.GET
        response = render(request, "referrals/landing.html", context)
        if given_cookie:
            visitors.visitor_cookie_set(response, given_cookie)
        return response

    if _throttled(request):
        context["throttled"] = True
        return render(request, "referrals/landing.html", context, status=429)
    if request.POST.get("website"):
        # A bot filled the hidden field: thank it and record nothing.
        context["sent"] = True
        return render(request, "referrals/landing.html", context)
    if form.is_valid():
        data = form.cleaned_data
        method = Method.PRINT_CARD if is_card else Method.SHAREABLE_LINK
        if data["via"] == "social" and not is_card:
            method = Method.SOCIAL
        target = link
        if data["card_code"]:
            target, _ = selectors.link_by_code(data["card_code"])
            target = target if target and target.card_code == data["card_code"].upper() else None
            method = Method.PRINT_CARD
            if target is None:
                form.add_error(
                    "card_code", gettext("This card code is unknown. Check the code on the card.")
                )
        elif target is None and data["code"]:
            target, form_is_card = selectors.link_by_code(data["code"])
            if form_is_card:
                method = Method.PRINT_CARD
        if target is None and not form.errors:
            form.add_error("card_code", gettext("Type the code printed on your referral card."))
        if target is not None and not form.errors:
            try:
                services.referral_create(
                    advocate_id=target.advocate_id,
                    method=method,
                    referred_name=data["name"],
                    referred_email=data["email"],
                    referred_company=data["company"],
                    referred_title=data["title"],
                    note=data["message"],
                )
            except services.ReferralError as error:
                form.add_error(None, str(error))
            else:
                return redirect(f"{request.path}?sent=1")
    return render(request, "referrals/landing.html", context, status=200)


# --- Reps and managers ------------------------------------------------------------------


def _is_manager(request: HttpRequest) -> bool:
    return has_role(request.user, Role.MANAGER)


# What the pipelines show: the referrals, their advocates and reps.
PIPELINE_SCOPES = (fragments.Scope.REFERRALS, fragments.Scope.PEOPLE)


@staff_required
def rep_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A rep's routed referrals (a manager's: also everyone's, the unassigned queue); the
    body is cached per reader until a referral or a person changes (core.fragments)."""
    is_manager = _is_manager(request)
    template = "referrals/partials/rep_list_body.html" + ("#results" if request.htmx else "")

    def body(extra: dict) -> str:
        scope = request.GET.get("scope", "mine")
        scope = scope if scope in ("mine", "unassigned", "all") and is_manager else "mine"
        stage = request.GET.get("stage", "")
        stage = stage if stage in Stage.values else ""
        referrals = selectors.referrals_for_staff(
            user=request.user, is_manager=is_manager, scope=scope, stage=stage
        )
        # A rep's referrals are counted (a hundred thousand rows) again only after a
        # referral changes, not when the body is rendered again for a person's change.
        page = KeptCountPaginator(
            referrals,
            PAGE_SIZE,
            name="referrals:rep_list",
            scopes=(fragments.Scope.REFERRALS,),
            vary=f"{request.user.pk}:{is_manager}:{scope}:{stage}",
        ).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "page": page,
            "scope": scope,
            "stage": stage,
            "stages": Stage.choices,
            "is_manager": is_manager,
            "reps": selectors.reps_active() if is_manager else [],
            "unassigned": selectors.referrals_unassigned_count() if is_manager else 0,
            "querystring": query.urlencode(),
            "next": request.get_full_path(),
            **extra,
        }
        return render_to_string(template, context, request)

    content = fragment(
        request,
        "referrals:rep_list" + ("#results" if request.htmx else ""),
        body,
        scopes=PIPELINE_SCOPES,
        vary=str(request.user.pk),
    )
    if request.htmx:
        return HttpResponse(content)
    return render(request, "referrals/rep_list.html", {"body": content})


def _staff_referral(request: AuthenticatedHttpRequest, pk: int) -> Referral:
    try:
        return selectors.referral_for_staff(
            user=request.user, is_manager=_is_manager(request), pk=pk
        )
    except Referral.DoesNotExist:
        raise Http404("No such referral.") from None


@staff_required
def rep_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    referral = _staff_referral(request, pk)
    return render(
        request,
        "referrals/rep_detail.html",
        {
            "referral": referral,
            "advance_form": AdvanceForm(
                initial={"stage": referral.stage, "amount": referral.deal_amount}
            ),
            "assign_form": AssignForm(initial={"rep": referral.owner_rep_id})
            if _is_manager(request)
            else None,
            "is_manager": _is_manager(request),
            "reasons": RejectionReason.choices,
            "second_generation_points": selectors.second_generation_points(),
            "joined": selectors.joined_advocate(referral),
        },
    )


@staff_required
@require_POST
def invite_referred(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    referral = _staff_referral(request, pk)
    try:
        referral_invite_referred(referral_id=referral.pk, actor=request.user)
    except services.ReferralError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            gettext("%(name)s is invited to join; the invitation is on its way.")
            % {"name": referral.referred_name},
        )
    return redirect("referrals:rep_detail", pk=referral.pk)


def _back(request: HttpRequest, referral: Referral) -> HttpResponse:
    target = request.POST.get("next", "")
    # Only a path on this site: a bare word would be taken for a URL name by
    # redirect() (NoReverseMatch, a 500), and another host is an open redirect.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("referrals:rep_detail", pk=referral.pk)


@staff_required
@require_POST
def advance(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    referral = _staff_referral(request, pk)
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return _back(request, referral)
    data = form.cleaned_data
    try:
        result = services.referral_advance(
            referral_id=referral.pk,
            stage=data["stage"],
            actor=request.user,
            amount=data["amount"],
            reason=data["reason"] or "",
        )
    except services.ReferralError as error:
        messages.error(request, str(error))
    else:
        if result.applied:
            messages.success(
                request,
                gettext("%(name)s: %(stage)s.")
                % {
                    "name": referral.referred_name,
                    "stage": in_sentence(result.referral.get_stage_display()),
                },
            )
        else:
            messages.info(
                request,
                gettext("%(name)s is already at that stage.") % {"name": referral.referred_name},
            )
    return _back(request, referral)


@manager_required
@require_POST
def assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    referral = _staff_referral(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a sales rep to assign the referral to."))
        return _back(request, referral)
    try:
        services.referral_assign(
            referral_id=referral.pk, rep=form.cleaned_data["rep"], actor=request.user
        )
    except services.ReferralError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            gettext("%(name)s is assigned to %(rep)s.")
            % {"name": referral.referred_name, "rep": form.cleaned_data["rep"]},
        )
    return _back(request, referral)


@staff_required
@require_http_methods(["GET", "POST"])
def verbal(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = VerbalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        advocate = selectors.advocate_active_by_email(data["advocate_email"])
        if advocate is None:
            form.add_error("advocate_email", gettext("No active advocate has this email address."))
        else:
            try:
                referral = services.referral_create(
                    advocate_id=advocate.pk,
                    method=Method.VERBAL,
                    referred_name=data["referred_name"],
                    referred_email=data["referred_email"],
                    referred_company=data["referred_company"],
                    referred_title=data["referred_title"],
                    note=data["note"],
                    created_by=request.user,
                )
            except services.ReferralError as error:
                form.add_error(None, str(error))
            else:
                if referral.stage == Stage.REJECTED:
                    messages.warning(
                        request,
                        gettext("Logged, but flagged as a duplicate of referral #%(id)s.")
                        % {"id": referral.duplicate_of_id},
                    )
                else:
                    messages.success(
                        request,
                        gettext("Verbal referral logged; %(name)s gets the credit.")
                        % {"name": advocate.name},
                    )
                return redirect("referrals:rep_list")
    return render(request, "referrals/verbal.html", {"form": form})
