"""The community pages. Advocates and managers read and post; reps have no part here.

htmx: voting swaps the vote button (``thread.html#vote``); replying, accepting and
hiding a reply swap the conversation (``thread.html#conversation``). Without
JavaScript the same forms post and redirect back to the thread.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from core.i18n import number
from core.roles import Role, manager_required, role_required
from discussions import selectors, services
from discussions.forms import ReplyForm, ReportForm, SearchForm, ThreadForm
from discussions.models import Reply, Report, Thread

PAGE_SIZE = 20
QUEUE_PAGE_SIZE = 25

community_required = role_required(Role.ADVOCATE, Role.MANAGER)


def _thread_url(pk: int, anchor: str = "") -> str:
    return reverse("discussions:thread", kwargs={"pk": pk}) + anchor


@community_required
def thread_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    search = SearchForm(request.GET)
    data = search.cleaned_data if search.is_valid() else {}
    group_id = data.get("group")
    group = None
    if group_id is not None:
        group = selectors.groups_to_post_in(viewer).filter(pk=group_id).first()
        if group is None:
            raise Http404("No such group.")
    threads = selectors.threads_for(
        viewer, q=data.get("q") or "", kind=data.get("kind") or "", group_id=group_id
    )
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    asked = {"q": data.get("q"), "kind": data.get("kind"), "group": group_id}
    keep = {key: value for key, value in asked.items() if value}
    return render(
        request,
        "discussions/list.html",
        {
            "page": page,
            "search": search,
            "q": data.get("q") or "",
            "group": group,
            "viewer": viewer,
            "querystring": urlencode(keep),
        },
    )


@community_required
@require_http_methods(["GET", "POST"])
def thread_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    groups = list(selectors.groups_to_post_in(viewer))
    initial = {"group": request.GET.get("group", ""), "kind": request.GET.get("kind", "question")}
    form = ThreadForm(request.POST or None, groups=groups, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            thread = services.thread_create(
                viewer=viewer,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                group_id=form.cleaned_data["group"],
            )
        except services.DiscussionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Posted. You hear about replies in your hub."))
            return redirect(_thread_url(thread.pk))
    status = 400 if request.method == "POST" else 200
    return render(request, "discussions/new.html", {"form": form}, status=status)


def _thread_or_404(viewer: selectors.Viewer, pk: int) -> Thread:
    try:
        return selectors.thread_for(viewer, pk)
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None


def _thread_context(viewer: selectors.Viewer, thread: Thread, **extra: object) -> dict:
    return {
        "thread": thread,
        "viewer": viewer,
        "replies": thread.replies.all(),
        "can_accept": thread.is_question
        and (viewer.is_manager or thread.author_id == viewer.user.pk),
        "reply_form": ReplyForm(),
        "statuses": Thread.IdeaStatus.choices,
        "error": "",
        **extra,
    }


@community_required
def thread_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    thread = _thread_or_404(viewer, pk)
    return render(request, "discussions/thread.html", _thread_context(viewer, thread))


def _conversation(
    request: AuthenticatedHttpRequest,
    viewer: selectors.Viewer,
    pk: int,
    error: str = "",
    **extra: object,
) -> HttpResponse:
    """The htmx answer: the conversation again; without JavaScript, back to the thread."""
    if request.htmx:
        thread = _thread_or_404(viewer, pk)
        context = _thread_context(viewer, thread, error=error, **extra)
        return render(request, "discussions/thread.html#conversation", context)
    if error:
        messages.error(request, error)
    return redirect(_thread_url(pk, "#conversation"))


@community_required
@require_POST
def reply_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        error = _("Write a reply (at most %(limit)s characters).") % {
            "limit": number(services.BODY_MAX)
        }
        if request.htmx:
            thread = _thread_or_404(viewer, pk)
            context = _thread_context(viewer, thread, error=error, reply_form=form)
            return render(request, "discussions/thread.html#conversation", context)
        _thread_or_404(viewer, pk)
        messages.error(request, error)
        return redirect(_thread_url(pk, "#conversation"))
    try:
        services.reply_create(viewer=viewer, thread_id=pk, body=form.cleaned_data["body"])
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None
    except services.DiscussionError as refused:
        return _conversation(request, viewer, pk, str(refused), reply_form=form)
    return _conversation(request, viewer, pk)


@community_required
@require_POST
def answer_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    try:
        thread = services.answer_accept(viewer=viewer, reply_id=pk)
    except (Thread.DoesNotExist, Reply.DoesNotExist):
        raise Http404("No such reply.") from None
    except services.DiscussionError as refused:
        thread_id = Reply.objects.filter(pk=pk).values_list("thread_id", flat=True).first()
        return _conversation(request, viewer, thread_id or 0, str(refused))
    return _conversation(request, viewer, thread.pk)


@community_required
@require_POST
def answer_unaccept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    try:
        services.answer_unaccept(viewer=viewer, thread_id=pk)
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None
    except services.DiscussionError as refused:
        return _conversation(request, viewer, pk, str(refused))
    return _conversation(request, viewer, pk)


@community_required
@require_POST
def vote(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    error = ""
    try:
        services.vote_toggle(viewer=viewer, thread_id=pk)
    except Thread.DoesNotExist:
        raise Http404("No such idea.") from None
    except services.DiscussionError as refused:
        error = str(refused)
    if request.htmx:
        thread = _thread_or_404(viewer, pk)
        return render(
            request,
            "discussions/thread.html#vote",
            {"thread": thread, "viewer": viewer, "error": error},
        )
    if error:
        messages.error(request, error)
    return redirect(_thread_url(pk))


@manager_required
@require_POST
def idea_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    try:
        changed = services.idea_status_set(
            viewer=viewer, thread_id=pk, status=request.POST.get("status", "")
        )
    except Thread.DoesNotExist:
        raise Http404("No such idea.") from None
    except services.DiscussionError as refused:
        messages.error(request, str(refused))
    else:
        if changed:
            messages.success(request, _("Status changed; everyone who voted was told."))
    return redirect(_thread_url(pk))


@manager_required
@require_POST
def thread_lock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    lock = request.POST.get("action") != "unlock"
    try:
        services.thread_lock(viewer=viewer, thread_id=pk, lock=lock)
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None
    messages.success(
        request, _("Thread locked: no more replies.") if lock else _("Thread unlocked.")
    )
    return redirect(_thread_url(pk))


@manager_required
@require_POST
def thread_hide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    hide = request.POST.get("action") != "show"
    try:
        services.thread_hide(viewer=viewer, thread_id=pk, hide=hide)
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None
    messages.success(
        request, _("Hidden from advocates.") if hide else _("Shown to advocates again.")
    )
    return redirect(_thread_url(pk))


@manager_required
@require_POST
def reply_hide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    hide = request.POST.get("action") != "show"
    try:
        reply = services.reply_hide(viewer=viewer, reply_id=pk, hide=hide)
    except Reply.DoesNotExist:
        raise Http404("No such reply.") from None
    return _conversation(request, viewer, reply.thread_id)


@role_required(Role.ADVOCATE)
@require_POST
def report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    form = ReportForm(request.POST)
    reason = form.data.get("reason", "")
    reply_id = form.cleaned_data.get("reply") if form.is_valid() else None
    try:
        services.report_create(viewer=viewer, thread_id=pk, reason=reason, reply_id=reply_id)
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None
    except services.DiscussionError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Thanks: a community manager will look at it."))
    return redirect(_thread_url(pk, f"#reply-{reply_id}" if reply_id else ""))


@manager_required
def moderation(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.open_reports(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "discussions/moderation.html", {"page": page, "querystring": ""})


@manager_required
@require_POST
def report_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    viewer = selectors.viewer_for(request.user)
    try:
        services.report_decide(viewer=viewer, report_id=pk, action=request.POST.get("action", ""))
    except Report.DoesNotExist:
        raise Http404("No such report.") from None
    except services.DiscussionError as refused:
        messages.error(request, str(refused))
    else:
        hidden = request.POST.get("action") == "hide"
        messages.success(request, _("Hidden from advocates.") if hidden else _("Report dismissed."))
    return redirect("discussions:moderation")
