"""Pages for leaderboards, levels and badges (configuration), and notifications."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from advocates.models import Advocate, Tag
from challenges import leaderboards, progress
from challenges.models import Badge
from core.roles import Role, advocate_required, manager_required, role_required

# The forms live here, beside the only views that use them.


class LeaderboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=leaderboards.Period.CHOICES, required=False)
    tag = forms.ModelChoiceField(queryset=Tag.objects.all(), required=False, empty_label="Everyone")


class LevelForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=50)
    threshold = forms.IntegerField(min_value=0, max_value=1_000_000_000, label="From points")


class BadgeForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    icon = forms.CharField(max_length=8, required=False, initial="🏅")
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=255, required=False)
    rule = forms.ChoiceField(choices=Badge.Rule.choices)
    count = forms.IntegerField(
        min_value=1, max_value=1000, initial=1, label="N", help_text="For counting rules."
    )


# can_delete: a row ticked "Delete" is not validated (its fields may be left empty).
LevelFormSet = forms.formset_factory(
    LevelForm, extra=1, max_num=30, validate_max=True, can_delete=True
)
BadgeFormSet = forms.formset_factory(
    BadgeForm, extra=1, max_num=60, validate_max=True, can_delete=True
)


def _viewer(request: HttpRequest) -> Advocate | None:
    """The signed-in advocate, if any: a manager may have no advocate profile."""
    return (
        Advocate.objects.filter(user=request.user)
        .only("id", "status", "leaderboard_opt_out", "lifetime_points")
        .first()
    )


@role_required(Role.ADVOCATE, Role.MANAGER)
def leaderboard(request: HttpRequest) -> HttpResponse:
    filters = LeaderboardFilterForm(request.GET)
    data = filters.cleaned_data if filters.is_valid() else {}
    # A bad period or an unknown tag falls back to the default board rather than failing:
    # these are links people share.
    period = data.get("period") or leaderboards.Period.WEEK
    tag = data.get("tag")
    board = leaderboards.leaderboard(period=period, tag=tag, viewer=_viewer(request))
    context = {
        "board": board,
        "periods": leaderboards.Period.CHOICES,
        "tags": list(Tag.objects.order_by("name")),
        "tag_id": tag.pk if tag else None,
    }
    template = "challenges/leaderboard.html"
    if request.htmx:
        template += "#board"
    return render(request, template, context)


def _level_rows(formset: forms.BaseFormSet) -> list[progress.LevelRow]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("DELETE"):
            if data.get("id") is not None:
                rows.append(progress.LevelRow(id=data["id"], name="", threshold=0, delete=True))
        elif data:  # an untouched extra row has no data
            rows.append(
                progress.LevelRow(id=data["id"], name=data["name"], threshold=data["threshold"])
            )
    return rows


def _badge_rows(formset: forms.BaseFormSet) -> list[progress.BadgeRow]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("DELETE"):
            if data.get("id") is not None:
                rows.append(
                    progress.BadgeRow(
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
                progress.BadgeRow(
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
def levels(request: HttpRequest) -> HttpResponse:
    existing_levels = progress.levels_all()
    level_initial = [
        {"id": level.pk, "name": level.name, "threshold": level.threshold}
        for level in existing_levels
    ] or [{"name": name, "threshold": threshold} for name, threshold in progress.DEFAULT_LEVELS]
    badges = list(Badge.objects.order_by("name"))
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
            progress.levels_save(rows=_level_rows(level_formset), by=request.user)
        except ValidationError as error:
            level_errors = error.messages
        else:
            messages.success(request, "Levels saved.")
            return redirect("challenges:levels")
    if posted_badges and badge_formset.is_valid():
        try:
            progress.badges_save(rows=_badge_rows(badge_formset), by=request.user)
        except ValidationError as error:
            badge_errors = error.messages
        else:
            messages.success(request, "Badges saved.")
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
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark my notifications read (the hub's "Mark all read" button)."""
    advocate = Advocate.objects.only("id").get(user=request.user)
    progress.notifications_mark_read(advocate_id=advocate.pk)
    if request.htmx:
        return render(
            request,
            "challenges/partials/progress_panel.html#notifications",
            {"notifications": [], "more_notifications": False},
        )
    return redirect("advocates:hub")
