from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from advocates import selectors, services
from advocates.forms import (
    AcceptInvitationForm,
    DirectoryFilterForm,
    GroupDecisionForm,
    GroupForm,
    InvitationCSVForm,
    InvitationForm,
    ProfileForm,
)
from advocates.http import AuthenticatedHttpRequest
from advocates.links import GROUP_INVITE_MAX_AGE, group_invite_url
from advocates.models import CommunityGroup, GroupMembership, User
from advocates.services import groups as group_services
from core.fragments import Scope, advocate_scope, fragment
from core.i18n import language_cookie_set
from core.pagination import KeptCountPaginator
from core.roles import (
    Role,
    advocate_id_of,
    advocate_required,
    has_role,
    manager_required,
    public,
    staff_required,
    user_roles,
)

DIRECTORY_PAGE_SIZE = 25
GROUP_MEMBERS_PAGE_SIZE = 50


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


# What the hub shows besides the advocate's own data (core.fragments).
HUB_SCOPES = (Scope.CHALLENGES, Scope.REWARDS, Scope.CAMPAIGNS)


@advocate_required
def hub(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The advocate's home: their points, level, challenges, rewards, referrals, asks and
    drives, one panel per app; the body is cached per advocate until one of those
    changes (core.fragments)."""

    def body(extra: dict) -> str:
        advocate = selectors.advocate_for_user(request.user)
        return render_to_string(
            "advocates/partials/hub_body.html", {"advocate": advocate, **extra}, request
        )

    # advocate_required: the reader has an active advocate profile.
    scopes = (advocate_scope(cast("int", advocate_id_of(request.user))), *HUB_SCOPES)
    content = fragment(request, "advocates:hub", body, scopes=scopes)
    return render(request, "advocates/hub.html", {"body": content})


@advocate_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = selectors.advocate_for_user(request.user)
    form = ProfileForm(
        request.POST or None,
        request.FILES or None,
        instance=advocate,
        initial={"language": request.user.language or request.LANGUAGE_CODE},
    )
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
            language = advocate.user.language or request.LANGUAGE_CODE
            translation.activate(language)  # the message below, in a language just chosen
            messages.success(request, _("Your profile is saved."))
            response = redirect("advocates:profile")
            language_cookie_set(response, language)
            return response
    return render(request, "advocates/profile.html", {"form": form, "advocate": advocate})


# What the people list shows: the advocates as staff see them, and their balances.
DIRECTORY_SCOPES = (Scope.PEOPLE, Scope.POINTS)


@staff_required
def directory(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The advocates, filtered and paged; the body is cached program-wide until an
    advocate (or their points) changes (core.fragments). A rep's copy is their own: it
    offers, and may apply, the "mine" filter."""
    is_rep = has_role(request.user, Role.REP)
    # htmx restoring a pushed URL missing from its history cache needs the whole page.
    partial = bool(request.htmx and not request.htmx.history_restore_request)
    template = "advocates/partials/directory_body.html" + ("#results" if partial else "")

    def body(extra: dict) -> str:
        filters = DirectoryFilterForm(
            request.GET or None, industries=selectors.industries(), show_mine=is_rep
        )
        data: dict = {}
        if filters.is_bound:
            # A bad value (a stale industry in a bookmarked URL) is ignored, not the others.
            filters.is_valid()
            data = filters.cleaned_data
        chosen = {
            "query": data.get("q", ""),
            "status": data.get("status", ""),
            "industry": data.get("industry", ""),
            "owner_id": request.user.pk if data.get("mine") else None,
        }
        advocates = selectors.advocate_directory(**chosen)
        # Counting every advocate is the list's dearest query: kept until they change,
        # not counted again when only their points do.
        page = KeptCountPaginator(
            advocates,
            DIRECTORY_PAGE_SIZE,
            name="advocates:directory",
            scopes=(Scope.PEOPLE,),
            vary=repr(sorted(chosen.items())),
        ).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {"filters": filters, "page": page, "querystring": query.urlencode(), **extra}
        return render_to_string(template, context, request)

    content = fragment(
        request,
        f"advocates:directory{'#results' if partial else ''}",
        body,
        scopes=DIRECTORY_SCOPES,
        vary=str(request.user.pk) if is_rep else "",
    )
    if partial:
        return HttpResponse(content)
    return render(request, "advocates/directory.html", {"body": content})


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
            if invitation.send_count == 1:
                text = _("Invitation sent to %(email)s.")
            else:
                text = _("Invitation sent again to %(email)s.")
            messages.success(request, text % {"email": invitation.email})
            return redirect("advocates:invite")
    if request.method == "POST" and "invite_csv" in request.POST and csv_form.is_valid():
        import_result = services.invitations_import_csv(
            file=csv_form.cleaned_data["file"], invited_by=request.user
        )
        if import_result.invited:
            count = len(import_result.invited)
            messages.success(
                request,
                ngettext("%(count)s invitation sent.", "%(count)s invitations sent.", count)
                % {"count": count},
            )
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
                "error": _(
                    "This invitation is for %(invited)s, but you are signed in as "
                    "%(signed_in)s. Sign out, then open the link again."
                )
                % {"invited": invitation.email, "signed_in": user.email},
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
            if settings.WELCOME_POINTS > 0:
                welcome = _("Welcome to the community! Your welcome points are in your balance.")
            else:
                welcome = _("Welcome to the community!")
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
        messages.error(request, _("LinkedIn sign-in is not set up on this site."))
        return redirect("advocates:accept", token=token)
    try:
        services.invitation_from_token(token)
    except services.InvitationError as error:
        return render(request, "advocates/invitation_invalid.html", {"error": error}, status=410)
    request.session[services.SESSION_INVITATION_TOKEN] = token
    provider_login = reverse("openid_connect_login", kwargs={"provider_id": "linkedin"})
    return redirect(f"{provider_login}?process=login")


# --- Groups: advocates --------------------------------------------------------------------


@advocate_required
def groups(request: AuthenticatedHttpRequest) -> HttpResponse:
    advocate = selectors.advocate_for_user(request.user)
    rows = list(selectors.groups_for_advocate(advocate))
    # my_status: annotated by the selector (the advocate's membership, "" for none).
    mine = [g for g in rows if g.my_status == GroupMembership.Status.MEMBER]  # type: ignore[attr-defined]
    others = [g for g in rows if g.my_status != GroupMembership.Status.MEMBER]  # type: ignore[attr-defined]
    return render(request, "advocates/groups.html", {"mine": mine, "others": others})


@advocate_required
@require_POST
def group_join(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Join an open group, or ask to join a request group."""
    advocate_id = selectors.advocate_for_user(request.user).pk
    try:
        result = group_services.group_join(group_id=pk, advocate_id=advocate_id)
    except group_services.GroupError as error:
        messages.error(request, str(error))
    else:
        name = result.membership.group.name
        if result.membership.status == GroupMembership.Status.PENDING:
            messages.success(
                request, _("Your request to join %(group)s is sent to a manager.") % {"group": name}
            )
        else:
            messages.success(request, _("You are a member of %(group)s.") % {"group": name})
    return redirect("advocates:groups")


@advocate_required
@require_POST
def group_leave(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    advocate_id = selectors.advocate_for_user(request.user).pk
    if group_services.group_leave(group_id=pk, advocate_id=advocate_id):
        messages.success(request, _("You left the group."))
    else:
        messages.info(request, _("You were not in that group."))
    return redirect("advocates:groups")


@advocate_required
@require_http_methods(["GET", "POST"])
def group_invite(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """A group's invite link: GET shows the group and a Join button, POST joins.

    Signing in comes first (advocate_required sends a visitor to the login page and
    back here). A bad link changes nothing and says why.
    """
    try:
        group = group_services.group_from_invite(token)
    except group_services.GroupError as error:
        return render(request, "advocates/group_invite.html", {"error": error}, status=410)
    advocate = selectors.advocate_for_user(request.user)
    if request.method == "POST":
        try:
            result = group_services.group_join_by_invite(token=token, advocate_id=advocate.pk)
        except group_services.GroupError as error:
            return render(request, "advocates/group_invite.html", {"error": error}, status=410)
        if result.changed:
            text = _("You joined %(group)s.")
        else:
            text = _("You are already a member of %(group)s.")
        messages.success(request, text % {"group": group.name})
        return redirect("advocates:groups")
    member = selectors.is_group_member(advocate_id=advocate.pk, group_id=group.pk)
    return render(
        request, "advocates/group_invite.html", {"group": group, "member": member, "token": token}
    )


# --- Groups: managers ---------------------------------------------------------------------


def _managed_group(pk: int) -> CommunityGroup:
    try:
        return selectors.group_for_manager(pk)
    except CommunityGroup.DoesNotExist:
        raise Http404("No such group.") from None


@manager_required
def group_manage(request: AuthenticatedHttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    page = Paginator(selectors.groups_for_manager(archived=archived), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "advocates/group_manage.html", {"page": page, "archived": archived})


@manager_required
@require_http_methods(["GET", "POST"])
def group_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_services.group_create(data=form.cleaned_data, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The group %(group)s is created.") % {"group": group.name})
            return redirect("advocates:group_detail", pk=group.pk)
    return render(request, "advocates/group_form.html", {"form": form, "group": None})


@manager_required
@require_http_methods(["GET", "POST"])
def group_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = _managed_group(pk)
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_services.group_update(
                group_id=pk, data=form.cleaned_data, by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(group)s is saved.") % {"group": group.name})
            return redirect("advocates:group_detail", pk=pk)
    return render(request, "advocates/group_form.html", {"form": form, "group": _managed_group(pk)})


@manager_required
def group_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = _managed_group(pk)
    members = Paginator(selectors.group_members(group), GROUP_MEMBERS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "group": group,
        "page": members,
        "requests": list(selectors.group_requests(group)[:100]),
        "invite_url": group_invite_url(group) if group.kind != CommunityGroup.Kind.OPEN else "",
        "invite_days": GROUP_INVITE_MAX_AGE.days,
    }
    return render(request, "advocates/group_detail.html", context)


@manager_required
@require_POST
def group_archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Archive the group, or restore it (``restore`` in the form)."""
    group = _managed_group(pk)
    restore = "restore" in request.POST
    group_services.group_archive(group_id=group.pk, by=request.user, archive=not restore)
    if restore:
        messages.success(request, _("%(group)s is restored.") % {"group": group.name})
    else:
        messages.success(
            request,
            _("%(group)s is archived: advocates no longer see it.") % {"group": group.name},
        )
    return redirect("advocates:group_detail", pk=pk)


@manager_required
@require_POST
def group_rotate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = _managed_group(pk)
    group_services.group_invite_rotate(group_id=group.pk, by=request.user)
    messages.success(request, _("A new invite link is ready: links shared before no longer work."))
    return redirect("advocates:group_detail", pk=pk)


@manager_required
@require_POST
def group_request_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        membership = selectors.group_request_for_manager(pk)
    except GroupMembership.DoesNotExist:
        messages.info(request, _("That request was already decided or withdrawn."))
        return redirect("advocates:group_manage")
    form = GroupDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or decline the request."))
        return redirect("advocates:group_detail", pk=membership.group_id)
    approve = form.cleaned_data["decision"] == "approve"
    if group_services.group_request_decide(membership_id=pk, approve=approve, by=request.user):
        messages.success(request, _("Request approved.") if approve else _("Request declined."))
    else:
        messages.info(request, _("That request was already decided or withdrawn."))
    return redirect("advocates:group_detail", pk=membership.group_id)
