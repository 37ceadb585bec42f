"""The relationship graph's pages (reps and managers): the graph with its search and
connections import, and a person's page with their interests and job changes."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from advocates.graph import (
    find_person_for_user,
    interest_names,
    neighbour_ids,
    people_search,
    person_detail,
)
from advocates.http import AuthenticatedHttpRequest
from advocates.models import Person
from advocates.services import graph
from core.roles import staff_required
from references.forms import (
    ConnectionsImportForm,
    GraphSearchForm,
    PersonInterestsForm,
    RelationshipForm,
)
from references.views import PAGE_SIZE


@staff_required
@require_http_methods(["GET", "POST"])
def graph_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Import LinkedIn connections and add relationships by hand."""
    importing = "import" in request.POST
    adding = "add_edge" in request.POST
    import_form = ConnectionsImportForm(
        request.POST if importing else None, request.FILES if importing else None
    )
    edge_form = RelationshipForm(request.POST if adding else None)
    result = None
    if importing and import_form.is_valid():
        upload = import_form.cleaned_data["file"]
        owner_email = import_form.cleaned_data["owner_email"]
        owner = graph.person_for_email(owner_email) if owner_email else request.user
        if owner is None:
            import_form.add_error(
                "owner_email", _("No advocate, colleague or person has this email.")
            )
        else:
            result = graph.connections_import(owner=owner, source=upload, created_by=request.user)
            if result.imported:
                messages.success(
                    request,
                    _("%(created)s new connection(s) for %(owner)s, %(existing)s already known.")
                    % {
                        "created": result.edges_created,
                        "owner": result.owner,
                        "existing": result.edges_existing,
                    },
                )
    if adding and edge_form.is_valid():
        data = edge_form.cleaned_data
        who = (
            graph.person_for_email(data["from_email"])
            if data["from_email"]
            else graph.person_for_user(request.user)
        )
        if who is None:
            edge_form.add_error("from_email", _("No advocate, colleague or person has this email."))
        else:
            try:
                other = graph.person_get_or_create(
                    full_name=data["full_name"],
                    email=data["email"],
                    linkedin_url=data["linkedin_url"],
                    company_name=data["company_name"],
                    title=data["title"],
                )
                _edge, created = graph.relationship_add(
                    from_person=who, to_person=other, created_by=request.user, note=data["note"]
                )
            except graph.GraphError as error:
                edge_form.add_error(None, str(error))
            else:
                message = (
                    _("%(who)s now knows %(other)s.")
                    if created
                    else _("%(who)s already knew %(other)s.")
                )
                messages.success(request, message % {"who": who, "other": other})
                return redirect("references:graph")
    # Searching the people: the graph is the company's, shared by every rep and manager.
    search = GraphSearchForm(request.GET)
    terms = search.cleaned_data if search.is_valid() else {"q": "", "interest": ""}
    searching = bool(terms["q"] or terms["interest"])
    people = people_search(text=terms["q"], interest=terms["interest"])
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "search": search,
        "page": page,
        "searching": searching,
        "querystring": urlencode({k: v for k, v in terms.items() if v}),
    }
    if request.htmx and request.method == "GET":
        return render(request, "references/graph.html#people", context)
    # The rep's node is made by the first import or edge that needs it, not by a visit.
    me = find_person_for_user(request.user)
    return render(
        request,
        "references/graph.html",
        context
        | {
            "import_form": import_form,
            "edge_form": edge_form,
            "result": result,
            "me": me,
            "my_connections": len(neighbour_ids(me.pk)) if me is not None else 0,
            "interest_names": interest_names(),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def graph_person(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One person of the graph: what they care about (editable) and their job moves.

    The graph is shared by every rep and manager (any of them imports into it and
    matching reads all of it), so any of them may see and annotate any person."""
    try:
        person = person_detail(pk)
    except Person.DoesNotExist:
        raise Http404("No such person.") from None
    current = "; ".join(interest.name for interest in person.interests.all())
    form = PersonInterestsForm(request.POST or None, initial={"interests": current})
    if request.method == "POST" and form.is_valid():
        try:
            graph.person_interests_set(
                person=person, names=form.cleaned_data["interests"], by=request.user
            )
        except graph.GraphError as error:
            form.add_error("interests", str(error))
        else:
            messages.success(request, _("Interests of %(person)s saved.") % {"person": person})
            return redirect("references:graph_person", pk=person.pk)
    return render(
        request,
        "references/graph_person.html",
        {"person": person, "form": form, "connections": len(neighbour_ids(person.pk))},
    )
