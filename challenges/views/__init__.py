"""Challenges: advocates find and complete them; managers write, publish and review them,
and read the NPS answers (leaderboards, levels and notifications: ``views.progress``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.models import Advocate
from advocates.selectors import advocate_for_user
from challenges import selectors, services
from challenges.forms import (
    ChallengeFilterForm,
    ChallengeForm,
    NPSPeriodForm,
    SubmissionForm,
)
from challenges.models import Challenge, Submission
from core.fragments import Scope, advocate_scope, fragment
from core.http import HtmxHttpRequest
from core.i18n import number
from core.roles import advocate_id_of, advocate_required, manager_required

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MANAGE_PAGE_SIZE = 25
REVIEW_PAGE_SIZE = 20
DONE_PAGE_SIZE = 10
OPEN_PAGE_SIZE = 12
OPEN_PARAM = "open"  # the open challenges' page; "page" is "What I did"'s
CARD = "challenges/partials/challenge_card.html"
REVIEW_BODY = "challenges/partials/review_body.html"


def _card(
    challenge: Challenge,
    form: SubmissionForm,
    *,
    refusal: str = "",
    submission: Submission | None = None,
    again: bool = False,
) -> dict:
    """What the challenge card template reads: every key always present."""
    return {
        "challenge": challenge,
        "form": form,
        "refusal": refusal,
        "submission": submission,
        "again": again,
    }


# --- Advocates --------------------------------------------------------------------------


def _keep(query: QueryDict, param: str) -> str:
    """The querystring that keeps only ``param`` (the other list's page), so paging one
    list of the page leaves the other where it was."""
    value = query.get(param, "")
    return urlencode({param: value}) if value else ""


# What the list shows besides the advocate's own data (their audiences, their counts,
# what they did): the challenges themselves (core.fragments).
LIST_SCOPES = (Scope.CHALLENGES,)


@advocate_required
def challenge_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The challenges open to me and what I did; the body is cached per advocate and
    page until one of them changes (core.fragments)."""

    def body(extra: dict) -> str:
        advocate = advocate_for_user(request.user)
        # Paged: each card carries its own submission form, so rendering every open
        # challenge (hundreds in a big program) made this page slow. "open" pages the
        # challenges, "page" pages "What I did"; each list's links keep the other's page.
        opened = Paginator(
            selectors.challenges_open_to(advocate).select_related("audience_level"),
            OPEN_PAGE_SIZE,
        ).get_page(request.GET.get(OPEN_PARAM))
        cards = [_card(c, SubmissionForm(c)) for c in opened.object_list]
        done = Paginator(selectors.submissions_of(advocate), DONE_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context = {
            "advocate": advocate,
            "cards": cards,
            "open_page": opened,
            "open_querystring": _keep(request.GET, "page"),
            "page": done,
            "querystring": _keep(request.GET, OPEN_PARAM),
        }
        return render_to_string("challenges/partials/list_body.html", context | extra, request)

    # advocate_required: an active advocate, so an id.
    scopes = (advocate_scope(cast("int", advocate_id_of(request.user))), *LIST_SCOPES)
    content = fragment(request, "challenges:list", body, scopes=scopes)
    return render(request, "challenges/list.html", {"body": content})


def _advocate_challenge(
    advocate: Advocate, pk: int
) -> WithAnnotations[Challenge, selectors.WithMyCount]:
    try:
        return selectors.challenge_for_advocate(advocate, pk)
    except Challenge.DoesNotExist:
        raise Http404("No such challenge.") from None


@advocate_required
def challenge_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    advocate = advocate_for_user(request.user)
    challenge = _advocate_challenge(advocate, pk)
    refusal = services.challenge_refusal(challenge, advocate, done=challenge.my_count)
    mine = list(selectors.submissions_of(advocate).filter(challenge=challenge)[:10])
    return render(
        request,
        "challenges/detail.html",
        {
            "challenge": challenge,
            "card": _card(challenge, SubmissionForm(challenge), refusal=refusal),
            "mine": mine,
        },
    )


@advocate_required
@require_POST
def challenge_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Complete a challenge: htmx swaps the card in place; without JavaScript the same
    form posts here and is redirected back to the list (or shown again with its errors)."""
    advocate = advocate_for_user(request.user)
    challenge = _advocate_challenge(advocate, pk)
    form = SubmissionForm(challenge, request.POST, request.FILES)
    card = _card(challenge, form)
    if form.is_valid():
        try:
            submission = services.submission_create(
                challenge_id=challenge.pk, advocate_id=advocate.pk, data=form.to_input()
            )
        except services.SubmissionRefused as refused:
            if not request.htmx:
                messages.error(request, str(refused))
                return redirect("challenges:list")
            card["refusal"] = str(refused)
        else:
            if not request.htmx:
                messages.success(request, _submitted_message(submission))
                return redirect("challenges:list")
            card["submission"] = submission
            card["again"] = challenge.my_count + 1 < challenge.completion_limit
            card["form"] = SubmissionForm(challenge)
            if _from_list(request):
                done = Paginator(selectors.submissions_of(advocate), DONE_PAGE_SIZE).get_page(1)
                # "What I did" links keep the open challenges' page the advocate is on.
                shown = parse_qs(urlsplit(request.htmx.current_url or "").query)
                opened = shown.get(OPEN_PARAM, [""])[0]
                return render(
                    request,
                    "challenges/partials/submitted.html",
                    {
                        "card": card,
                        "page": done,
                        "querystring": urlencode({OPEN_PARAM: opened}) if opened else "",
                    },
                )
    elif not request.htmx:
        refusal = services.challenge_refusal(challenge, advocate, done=challenge.my_count)
        mine = list(selectors.submissions_of(advocate).filter(challenge=challenge)[:10])
        return render(
            request,
            "challenges/detail.html",
            {"challenge": challenge, "card": card | {"refusal": refusal}, "mine": mine},
            status=400,
        )
    return render(request, CARD, {"card": card})


@advocate_required
def submission_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One of my submissions: what I sent and what became of it."""
    advocate = advocate_for_user(request.user)
    try:
        submission = selectors.submission_of(advocate, pk)
    except Submission.DoesNotExist:
        raise Http404("No such submission.") from None
    return render(request, "challenges/submission.html", {"submission": submission})


def _from_list(request: HtmxHttpRequest) -> bool:
    """Whether an htmx request came from the list page, which holds "What I did"."""
    current = urlsplit(request.htmx.current_url or "").path
    return current == reverse("challenges:list")


def _submitted_message(submission: Submission) -> str:
    challenge = submission.challenge
    if submission.status == Submission.Status.APPROVED:
        return _("Done! %(points)s points are in your balance.") % {
            "points": number(challenge.points)
        }
    return _("Thanks! Your submission for “%(title)s” is waiting for review.") % {
        "title": challenge.title
    }


# --- Managers: challenges ---------------------------------------------------------------


# What the console's challenge list shows: the challenges (their audiences' names drop
# every fragment) and their submissions' counts.
MANAGE_SCOPES = (Scope.CHALLENGES, Scope.REVIEW)


@manager_required
def manage(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The challenges, newest first; the body is cached program-wide until a challenge
    or a submission changes (core.fragments)."""
    template = "challenges/partials/manage_body.html" + ("#results" if request.htmx else "")

    def body(extra: dict) -> str:
        filters = ChallengeFilterForm(request.GET or None)
        status = filters.cleaned_data["status"] if filters.is_valid() else ""
        page = Paginator(
            selectors.challenges_for_manager(status=status), MANAGE_PAGE_SIZE
        ).get_page(request.GET.get("page"))
        counts = selectors.submission_counts([c.pk for c in page.object_list])
        rows = [(c, counts.get(c.pk, selectors.SubmissionCounts())) for c in page.object_list]
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "filters": filters,
            "page": page,
            "rows": rows,
            "querystring": query.urlencode(),
            **extra,
        }
        return render_to_string(template, context, request)

    name = "challenges:manage" + ("#results" if request.htmx else "")
    content = fragment(request, name, body, scopes=MANAGE_SCOPES)
    if request.htmx:
        return HttpResponse(content)
    return render(request, "challenges/manage.html", {"body": content})


@manager_required
@require_http_methods(["GET", "POST"])
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ChallengeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        publish = "publish" in request.POST
        try:
            challenge = services.challenge_create(
                created_by=request.user, data=form.cleaned_data, publish=publish
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if publish:
                done = _("“%(title)s” is published.")
            else:
                done = _("“%(title)s” is saved as a draft.")
            messages.success(request, done % {"title": challenge.title})
            return redirect("challenges:manage")
    return render(request, "challenges/form.html", {"form": form, "challenge": None})


def _managed_challenge(pk: int) -> Challenge:
    try:
        return selectors.challenge_for_manager(pk)
    except Challenge.DoesNotExist:
        raise Http404("No such challenge.") from None


@manager_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    challenge = _managed_challenge(pk)
    form = ChallengeForm(request.POST or None, instance=challenge)
    if request.method == "POST" and form.is_valid():
        publish = "publish" in request.POST
        try:
            challenge = services.challenge_update(
                challenge_id=pk, data=form.cleaned_data, publish=publish, by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("“%(title)s” is saved.") % {"title": challenge.title})
            return redirect("challenges:manage")
    # The form's instance carries the posted values; show the stored ones in the head.
    return render(
        request, "challenges/form.html", {"form": form, "challenge": _managed_challenge(pk)}
    )


@manager_required
@require_POST
def publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    challenge = _managed_challenge(pk)
    try:
        services.challenge_publish(challenge_id=challenge.pk, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("“%(title)s” is published.") % {"title": challenge.title})
    return redirect("challenges:manage")


@manager_required
@require_http_methods(["GET", "POST"])
def archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST archives."""
    challenge = _managed_challenge(pk)
    if request.method == "POST":
        services.challenge_archive(challenge_id=challenge.pk, by=request.user)
        messages.success(
            request,
            _("“%(title)s” is archived: advocates can no longer complete it.")
            % {"title": challenge.title},
        )
        return redirect("challenges:manage")
    pending = challenge.submissions.filter(status=Submission.Status.PENDING).count()
    return render(
        request, "challenges/archive_confirm.html", {"challenge": challenge, "pending": pending}
    )


# --- Managers: the review queue ---------------------------------------------------------


# What the review queue shows: the submissions, their challenges and advocates.
REVIEW_SCOPES = (Scope.REVIEW, Scope.CHALLENGES, Scope.PEOPLE)


@manager_required
def review(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pending submissions, oldest first; the body is cached program-wide until a
    submission, a challenge or an advocate changes (core.fragments)."""

    def body(extra: dict) -> str:
        paginator = selectors.CappedPaginator(
            selectors.review_queue(), REVIEW_PAGE_SIZE, cap=selectors.REVIEW_COUNT_CAP
        )
        page = paginator.get_page(request.GET.get("page"))
        # get_page has counted, so `more` is known.
        waiting = selectors.CappedCount(value=paginator.count, more=paginator.more)
        context = {"page": page, "waiting": waiting, "oob": False, "querystring": "", **extra}
        return render_to_string(REVIEW_BODY, context, request)

    content = fragment(request, "challenges:review", body, scopes=REVIEW_SCOPES)
    return render(request, "challenges/review.html", {"body": content})


@manager_required
@require_POST
def review_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Approve or reject one submission; htmx swaps its row for the outcome and the count."""
    action = request.POST.get("action")
    if action not in ("approve", "reject"):
        return HttpResponse(_("Choose approve or reject."), status=400)
    try:
        submission = selectors.submission_for_review(pk)
    except Submission.DoesNotExist:
        raise Http404("No such submission.") from None
    error = ""
    try:
        if action == "approve":
            submission = services.submission_approve(submission_id=pk, reviewer=request.user)
        else:
            submission = services.submission_reject(
                submission_id=pk, reviewer=request.user, reason=request.POST.get("reason", "")
            )
    except services.ReviewError as refused:
        error = str(refused)
    submission = selectors.submission_for_review(pk)
    if request.htmx:
        return render(
            request,
            REVIEW_BODY + "#decided",
            {
                "submission": submission,
                "error": error,
                "waiting": selectors.pending_review_count(),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _decided_message(submission))
    return redirect(_back_to_queue(request))


def _decided_message(submission: Submission) -> str:
    who = submission.advocate.name
    if submission.status == Submission.Status.APPROVED:
        return _("Approved: %(name)s got %(points)s points.") % {
            "name": who,
            "points": number(submission.challenge.points),
        }
    return _("Rejected %(name)s’s submission; they see your reason.") % {"name": who}


def _back_to_queue(request: HttpRequest) -> str:
    page = request.POST.get("page", "")
    url = reverse("challenges:review")
    return f"{url}?page={page}" if page.isdigit() else url


@manager_required
@require_POST
def review_bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    action = request.POST.get("action")
    if not ids:
        messages.error(request, _("Tick the submissions to approve or reject first."))
        return redirect(_back_to_queue(request))
    try:
        if action == "approve":
            result = services.submissions_bulk_approve(submission_ids=ids, reviewer=request.user)
            approved = True
        elif action == "reject":
            result = services.submissions_bulk_reject(
                submission_ids=ids, reviewer=request.user, reason=request.POST.get("reason", "")
            )
            approved = False
        else:
            messages.error(request, _("Choose approve or reject."))
            return redirect(_back_to_queue(request))
    except services.ReviewError as error:
        messages.error(request, str(error))
        return redirect(_back_to_queue(request))
    if result.done:
        count = len(result.done)
        if approved:
            done = ngettext(
                "Approved %(count)d submission(s).", "Approved %(count)d submission(s).", count
            )
        else:
            done = ngettext(
                "Rejected %(count)d submission(s).", "Rejected %(count)d submission(s).", count
            )
        messages.success(request, done % {"count": count})
    for pk, reason in result.failed.items():
        messages.error(request, _("Submission #%(id)s: %(reason)s") % {"id": pk, "reason": reason})
    return redirect(_back_to_queue(request))


# --- Managers: NPS ----------------------------------------------------------------------


@manager_required
def nps(request: AuthenticatedHttpRequest) -> HttpResponse:
    default = selectors.default_nps_period()
    form = NPSPeriodForm(request.GET or None, initial={"start": default[0], "end": default[1]})
    start, end = form.period(default)
    summary = selectors.nps_summary(start=start, end=end)
    return render(request, "challenges/nps.html", {"form": form, "summary": summary})
