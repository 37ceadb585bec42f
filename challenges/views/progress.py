"""Leaderboards (the program's and a group's), levels and badges, notifications."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.models import CommunityGroup, Tag
from advocates.selectors import group_for_manager, group_for_member
from challenges import selectors
from challenges.forms import BadgeFormSet, LeaderboardFilterForm, LevelFormSet
from challenges.selectors import leaderboards
from challenges.selectors.progress import badges_all, levels_all
from challenges.services.progress import (
    DEFAULT_LEVELS,
    BadgeRow,
    LevelRow,
    badges_save,
    levels_save,
    notifications_mark_read,
)
from core.fragments import Scope, advocate_scope, fragment
from core.roles import (
    Role,
    advocate_id_of,
    advocate_required,
    has_role,
    manager_required,
    role_required,
)

# What the program's board shows besides the reader's own standing: everyone's points,
# names and companies (core.fragments).
BOARD_SCOPES = (Scope.POINTS,)
BOARD_BODY = "challenges/partials/leaderboard_body.html"


@role_required(Role.ADVOCATE, Role.MANAGER)
def leaderboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    def body(extra: dict) -> str:
        filters = LeaderboardFilterForm(request.GET)
        data = filters.cleaned_data if filters.is_valid() else {}
        # A bad period or an unknown tag falls back to the default board rather than
        # failing: these are links people share.
        period = data.get("period") or leaderboards.Period.WEEK
        tag = data.get("tag")
        viewer = leaderboards.leaderboard_viewer(user=request.user)
        board = leaderboards.leaderboard(period=period, tag=tag, viewer=viewer)
        return _board_html(
            request,
            board,
            board_url=reverse("challenges:leaderboard"),
            tags=leaderboards.leaderboard_tags(),
            tag_id=tag.pk if tag else None,
            extra=extra,
        )

    # A tag's board is not cached: who has a tag changes no version but that
    # advocate's own (core.fragments.track_advocates_m2m).
    return _board_page(request, body, cached=not request.GET.get("tag"))


@role_required(Role.ADVOCATE, Role.MANAGER)
def group_leaderboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A group's own board: the program board's rules (visible advocates, opt-outs left
    out) over its members. Members only (anyone else gets a 404); managers see any."""
    viewer = leaderboards.leaderboard_viewer(user=request.user)
    try:
        if has_role(request.user, Role.MANAGER):
            group = group_for_manager(pk)
        elif viewer is not None:
            group = group_for_member(advocate_id=viewer.pk, pk=pk)
        else:
            raise CommunityGroup.DoesNotExist
    except CommunityGroup.DoesNotExist:
        raise Http404("No such group.") from None

    def body(extra: dict) -> str:
        filters = LeaderboardFilterForm(request.GET)
        data = filters.cleaned_data if filters.is_valid() else {}
        period = data.get("period") or leaderboards.Period.WEEK
        board = leaderboards.leaderboard(period=period, group=group, viewer=viewer)
        board_url = reverse("challenges:group_leaderboard", kwargs={"pk": group.pk})
        return _board_html(request, board, board_url=board_url, tags=[], tag_id=None, extra=extra)

    return _board_page(request, body, group=group, cached=False)


def _board_html(
    request: AuthenticatedHttpRequest,
    board: leaderboards.Board,
    *,
    board_url: str,
    tags: list[Tag],
    tag_id: int | None,
    extra: dict,
) -> str:
    """The board's body, or only the board itself for htmx (a period or tag switch)."""
    context = {
        "board": board,
        "board_url": board_url,
        "periods": leaderboards.Period.CHOICES,
        "tags": tags,
        "tag_id": tag_id,
    }
    template = BOARD_BODY + ("#board" if request.htmx else "")
    return render_to_string(template, context | extra, request)


def _board_page(
    request: AuthenticatedHttpRequest,
    body: Callable[[dict], str],
    *,
    cached: bool,
    group: CommunityGroup | None = None,
) -> HttpResponse:
    """The leaderboard page, or only its board for htmx; ``cached``: per advocate until
    someone's points or their own standing change (core.fragments)."""
    advocate_id = advocate_id_of(request.user)
    html: str
    if cached and advocate_id is not None:
        name = "challenges:leaderboard" + ("#board" if request.htmx else "")
        scopes = (advocate_scope(advocate_id), *BOARD_SCOPES)
        html = fragment(request, name, body, scopes=scopes)
    else:
        # A group's or a tag's board, or a manager without an active advocate profile:
        # rendered each time (render_to_string's HTML is already safe).
        html = body({})
    if request.htmx:
        return HttpResponse(html)
    return render(request, "challenges/leaderboard.html", {"body": html, "group": group})


def _level_rows(formset: BaseFormSet) -> list[LevelRow]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("DELETE"):
            if data.get("id") is not None:
                rows.append(LevelRow(id=data["id"], name="", threshold=0, delete=True))
        elif data:  # an untouched extra row has no data
            rows.append(LevelRow(id=data["id"], name=data["name"], threshold=data["threshold"]))
    return rows


def _badge_rows(formset: BaseFormSet) -> list[BadgeRow]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("DELETE"):
            if data.get("id") is not None:
                rows.append(
                    BadgeRow(
                        id=data["id"],
                        name="",
                        description="",
                        rule="",
                        count=1,
                        icon="",
                        delete=True,
                    )
                )
        elif data:
            rows.append(
                BadgeRow(
                    id=data["id"],
                    name=data["name"],
                    description=data["description"],
                    rule=data["rule"],
                    count=data["count"],
                    icon=data["icon"],
                )
            )
    return rows


@manager_required
@require_http_methods(["GET", "POST"])
def levels(request: AuthenticatedHttpRequest) -> HttpResponse:
    existing_levels = levels_all()
    level_initial = [
        {"id": level.pk, "name": level.name, "threshold": level.threshold}
        for level in existing_levels
    ] or [{"name": _(name), "threshold": threshold} for name, threshold in DEFAULT_LEVELS]
    badges = badges_all()
    badge_initial = [
        {
            "id": badge.pk,
            "icon": badge.icon,
            "name": badge.name,
            "description": badge.description,
            "rule": badge.rule,
            "count": badge.count,
        }
        for badge in badges
    ]
    posted_levels = request.method == "POST" and "save_levels" in request.POST
    posted_badges = request.method == "POST" and "save_badges" in request.POST
    level_formset = LevelFormSet(
        request.POST if posted_levels else None, initial=level_initial, prefix="levels"
    )
    badge_formset = BadgeFormSet(
        request.POST if posted_badges else None, initial=badge_initial, prefix="badges"
    )
    level_errors: list[str] = []
    badge_errors: list[str] = []
    if posted_levels and level_formset.is_valid():
        try:
            levels_save(rows=_level_rows(level_formset), by=request.user)
        except ValidationError as error:
            level_errors = error.messages
        else:
            messages.success(request, _("Levels saved."))
            return redirect("challenges:levels")
    if posted_badges and badge_formset.is_valid():
        try:
            badges_save(rows=_badge_rows(badge_formset), by=request.user)
        except ValidationError as error:
            badge_errors = error.messages
        else:
            messages.success(request, _("Badges saved."))
            return redirect("challenges:levels")
    return render(
        request,
        "challenges/leaderboard_levels.html",
        {
            "level_formset": level_formset,
            "badge_formset": badge_formset,
            "level_errors": level_errors,
            "badge_errors": badge_errors,
            "levels_unsaved": not existing_levels,
        },
    )


@advocate_required
@require_POST
def notifications_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Mark my notifications read (the hub's "Mark all read" button)."""
    notifications_mark_read(advocate_id=selectors.advocate_id_for_user(request.user))
    if request.htmx:
        return render(
            request,
            "challenges/partials/progress_panel.html#notifications",
            {"notifications": [], "more_notifications": False},
        )
    return redirect("advocates:hub")
