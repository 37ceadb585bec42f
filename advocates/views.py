from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from advocates import selectors, services
from advocates.forms import (
    AcceptInvitationForm,
    DirectoryFilterForm,
    InvitationCSVForm,
    InvitationForm,
    ProfileForm,
)
from advocates.http import AuthenticatedHttpRequest
from advocates.models import User
from core.roles import Role, advocate_required, has_role, public, staff_required, user_roles

DIRECTORY_PAGE_SIZE = 25


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each role to its own area."""
    roles = user_roles(request.user)
    if Role.MANAGER in roles:
        return redirect("console:home")
    if Role.REP in roles:
        return redirect("advocates:directory")
    if Role.ADVOCATE in roles:
        return redirect("advocates:hub")
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "advocates/no_role.html", status=403)


@advocate_required
def hub(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = selectors.advocate_for_user(request.user)
    return render(request, "advocates/hub.html", {"advocate": advocate})


@advocate_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = selectors.advocate_for_user(request.user)
    form = ProfileForm(request.POST or None, request.FILES or None, instance=advocate)
    if request.method == "POST" and form.is_valid():
        try:
            services.advocate_profile_update(
                advocate=advocate,
                data=form.cleaned_data,
                avatar=form.cleaned_data.get("avatar_upload"),
            )
        except ValidationError as error:
            form.add_error("avatar_upload", error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("advocates:profile")
    return render(request, "advocates/profile.html", {"form": form, "advocate": advocate})


@staff_required
def directory(request: AuthenticatedHttpRequest) -> HttpResponse:
    filters = DirectoryFilterForm(
        request.GET or None,
        industries=selectors.industries(),
        show_mine=has_role(request.user, Role.REP),
    )
    data: dict = {}
    if filters.is_bound:
        # A bad value (a stale industry in a bookmarked URL) is ignored, not the others.
        filters.is_valid()
        data = filters.cleaned_data
    advocates = selectors.advocate_directory(
        query=data.get("q", ""),
        status=data.get("status", ""),
        industry=data.get("industry", ""),
        owner_id=request.user.pk if data.get("mine") else None,
    )
    page = Paginator(advocates, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "querystring": query.urlencode()}
    template = "advocates/directory.html"
    # htmx restoring a pushed URL missing from its history cache needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@staff_required
def advocate_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_object_or_404(selectors.advocates_with_details(), pk=pk)
    return render(request, "advocates/detail.html", {"advocate": advocate})


@staff_required
@require_http_methods(["GET", "POST"])
def invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST if "invite_one" in request.POST else None)
    csv_form = InvitationCSVForm(
        request.POST if "invite_csv" in request.POST else None,
        request.FILES if "invite_csv" in request.POST else None,
    )
    import_result = None
    if request.method == "POST" and "invite_one" in request.POST and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = services.invitation_create(
                email=data["email"],
                invited_by=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                company_name=data["company"],
                title=data["title"],
            )
        except (services.InvitationError, ValidationError) as error:
            form.add_error("email", error.messages[0] if hasattr(error, "messages") else str(error))
        else:
            verb = "Invitation sent" if invitation.send_count == 1 else "Invitation sent again"
            messages.success(request, f"{verb} to {invitation.email}.")
            return redirect("advocates:invite")
    if request.method == "POST" and "invite_csv" in request.POST and csv_form.is_valid():
        import_result = services.invitations_import_csv(
            file=csv_form.cleaned_data["file"], invited_by=request.user
        )
        if import_result.invited:
            count = len(import_result.invited)
            messages.success(request, f"{count} invitation{pluralize(count)} sent.")
        if not import_result.errors:
            return redirect("advocates:invite")
    invitations = selectors.invitations_visible_to(
        request.user, see_all=has_role(request.user, Role.MANAGER)
    )
    page = Paginator(invitations, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "advocates/invite.html",
        {"form": form, "csv_form": csv_form, "import_result": import_result, "page": page},
    )


@public
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click link from the invitation email (no account needed to open it)."""
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationError as error:
        return render(request, "advocates/invitation_invalid.html", {"error": error}, status=410)

    user = request.user if isinstance(request.user, User) else None
    signed_in = user is not None
    if user is not None and user.email.lower() != invitation.email.lower():
        return render(
            request,
            "advocates/invitation_invalid.html",
            {
                "error": f"This invitation is for {invitation.email}, but you are signed in as "
                f"{user.email}. Sign out, then open the link again.",
                "wrong_account": True,
            },
            status=403,
        )

    # An address with an account already (a rep, a former advocate) joins by signing in
    # first; the login page brings them back here for the one-click join.
    existing_account = not signed_in and selectors.account_exists(invitation.email)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and (signed_in or form.is_valid()):
        try:
            if user is not None:
                services.invitation_accept(token=token, user=user)
            else:
                advocate = services.invitation_accept(
                    token=token, password=form.cleaned_data["password1"]
                )
                login(request, advocate.user, backend="core.auth_backends.ModelBackend")
        except ValidationError as error:
            form.add_error("password1", error)
        except services.InvitationError as error:
            return render(
                request, "advocates/invitation_invalid.html", {"error": error}, status=409
            )
        else:
            welcome = "Welcome to the community!"
            if settings.WELCOME_POINTS > 0:
                welcome += " Your welcome points are in your balance."
            messages.success(request, welcome)
            return redirect("advocates:hub")
    return render(
        request,
        "advocates/accept.html",
        {
            "invitation": invitation,
            "form": form,
            "signed_in": signed_in,
            "existing_account": existing_account,
            "token": token,
            "linkedin_enabled": bool(settings.LINKEDIN_CLIENT_ID),
            "welcome_points": settings.WELCOME_POINTS,
        },
    )


@public
@require_http_methods(["POST"])
def accept_linkedin(request: HttpRequest, token: str) -> HttpResponse:
    """Join with LinkedIn: remember the invitation, then hand over to allauth's provider."""
    if not settings.LINKEDIN_CLIENT_ID:
        messages.error(request, "LinkedIn sign-in is not set up on this site.")
        return redirect("advocates:accept", token=token)
    try:
        services.invitation_from_token(token)
    except services.InvitationError as error:
        return render(request, "advocates/invitation_invalid.html", {"error": error}, status=410)
    request.session[services.SESSION_INVITATION_TOKEN] = token
    provider_login = reverse("openid_connect_login", kwargs={"provider_id": "linkedin"})
    return redirect(f"{provider_login}?process=login")
