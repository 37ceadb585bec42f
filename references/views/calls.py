"""Scheduling the agreed call and saying whether it happened: the advocate's call page,
the prospect's call page (a signed link), the rep's controls on the request page, the
one-click attendance links and the managers' dispute queue.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from advocates.http import AuthenticatedHttpRequest
from advocates.selectors import advocate_for_user
from core.models import ProgramSettings
from core.roles import advocate_required, manager_required, public, staff_required
from core.timezones import zone_or_default, zone_valid
from references import links, selectors, services
from references.calendar import ics_content_type, ics_filename, meeting_ics
from references.forms import DisputeForm, MeetingTimeForm, OfferForm, ProspectZoneForm
from references.models import Ask, Meeting, ReferenceRequest
from references.views import _link_problem, _request_or_404

ATTENDANCE_LINK_DAYS = 30
DISPUTES_PAGE = 50


def _form_errors(form: OfferForm | MeetingTimeForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _ics_response(meeting: Meeting | None) -> HttpResponse:
    if meeting is None or meeting.starts_at is None:
        raise Http404("This call has no time yet.")
    body = meeting_ics(meeting, program_name=ProgramSettings.load().display_name)
    response = HttpResponse(body, content_type=ics_content_type(meeting))
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(meeting)}"'
    return response


# --- The advocate ----------------------------------------------------------------------------


def _own_accepted_ask(request: AuthenticatedHttpRequest, pk: int) -> Ask:
    advocate = advocate_for_user(request.user)
    return get_object_or_404(
        selectors.asks_for_advocate(advocate).select_related("advocate__user", "request__rep"),
        pk=pk,
        status__in=(Ask.Status.ACCEPTED, Ask.Status.COMPLETED, Ask.Status.NO_SHOW),
    )


@advocate_required
@require_http_methods(["GET", "POST"])
def ask_call(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The advocate's page for one agreed call: offer times, then the booked call."""
    ask = _own_accepted_ask(request, pk)
    advocate = ask.advocate
    meeting = selectors.meeting_current(ask)
    live = meeting is not None and meeting.status in Meeting.LIVE
    zoom = services.zoom_available()
    own_zone = zone_or_default(advocate.time_zone)
    form = OfferForm(
        request.POST if request.method == "POST" else None,
        zoom=zoom,
        initial={"time_zone": own_zone},
    )
    if not advocate.time_zone:  # the browser's zone, when JavaScript can tell it
        form.fields["time_zone"].widget.attrs["data-tz-detect"] = ""
    if request.method == "POST":
        if live or ask.status != Ask.Status.ACCEPTED:
            messages.error(
                request, _("Times are already offered for this call: move or cancel it.")
            )
            return redirect("references:ask_call", pk=ask.pk)
        if form.is_valid():
            try:
                services.meeting_offer(ask_id=ask.pk, advocate=advocate, offer=form.offer())
            except services.ReferenceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Sent to %(name)s: you both get a calendar invitation once they pick a time.")
                    % {"name": ask.request.prospect_first_name},
                )
                return redirect("references:ask_call", pk=ask.pk)
    return render(
        request,
        "references/ask_call.html",
        {
            "ask": ask,
            "ref": ask.request,
            "meeting": meeting,
            "live": live,
            "form": form,
            "zone": zone_or_default(meeting.time_zone if meeting else own_zone),
            "time_form": MeetingTimeForm(initial={"time_zone": own_zone}),
            "attendance_open": bool(meeting and meeting.attendance_due),
            "now": timezone.now(),
        },
        status=400 if form.errors else 200,
    )


def _advocate_meeting(request: AuthenticatedHttpRequest, pk: int) -> tuple[Ask, Meeting]:
    ask = _own_accepted_ask(request, pk)
    meeting = selectors.meeting_current(ask)
    if meeting is None:
        raise Http404("No times were offered for this call.")
    return ask, meeting


@advocate_required
@require_POST
def ask_call_time(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The advocate enters the booked time (after a booking page) or moves the call."""
    ask = _own_accepted_ask(request, pk)
    form = MeetingTimeForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ReferenceError(_form_errors(form))
        services.meeting_time_set(
            request=ask.request,
            wall=form.cleaned_data["when"],
            time_zone=form.cleaned_data["time_zone"],
            by="advocate",
        )
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Call booked for this time: everyone gets the invitation."))
    return redirect("references:ask_call", pk=ask.pk)


@advocate_required
@require_POST
def ask_call_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ask = _own_accepted_ask(request, pk)
    try:
        services.meeting_cancel(request=ask.request, by="advocate")
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Cancelled: everyone gets the cancellation. Offer new times below.")
        )
    return redirect("references:ask_call", pk=ask.pk)


@advocate_required
@require_POST
def ask_call_attended(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _ask, meeting = _advocate_meeting(request, pk)
    _answer(request, meeting, "advocate")
    return redirect("references:ask_call", pk=pk)


@advocate_required
def ask_call_ics(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _ask, meeting = _advocate_meeting(request, pk)
    return _ics_response(meeting)


def _answer(request: HttpRequest, meeting: Meeting, side: str) -> bool:
    held = request.POST.get("held")
    if held not in ("yes", "no"):
        messages.error(request, _("Answer yes or no."))
        return False
    try:
        services.attendance_answer(meeting_id=meeting.pk, side=side, held=held == "yes")
    except services.ReferenceError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, _("Thank you: your answer is recorded."))
    return True


# --- The prospect (a signed link) -------------------------------------------------------------


def _prospect_ref(pk: int, token: str) -> ReferenceRequest:
    return services.request_from_token(pk, token, purpose=links.CALL_SALT)


@public
@require_http_methods(["GET", "POST"])
def prospect_call(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The prospect picks a time in their own timezone, or moves the call to another."""
    try:
        ref = _prospect_ref(pk, token)
    except services.ReferenceError as error:
        return _link_problem(request, error)
    meeting = selectors.meeting_for_request(ref)
    zone_form = ProspectZoneForm(request.GET or None)
    chosen = request.GET.get("tz") or request.POST.get("tz") or ""
    if not zone_valid(chosen):
        chosen = ""
    zone = zone_or_default(
        chosen or (meeting.prospect_time_zone or meeting.time_zone if meeting else "")
    )
    problem = ""
    if request.method == "POST":
        try:
            slot_id = int(request.POST.get("slot", ""))
        except ValueError:
            problem = _("Pick one of the times on this page.")
        else:
            try:
                services.meeting_pick(request=ref, slot_id=slot_id, prospect_time_zone=zone)
            except services.ReferenceError as error:
                problem = str(error)
            else:
                messages.success(
                    request, _("Booked: the calendar invitation is on its way to you both.")
                )
                return redirect("references:prospect_call", pk=pk, token=token)
    now = timezone.now()
    slots = list(meeting.slots.all()) if meeting else []
    return render(
        request,
        "references/prospect_call.html",
        {
            "ref": ref,
            "token": token,
            "meeting": meeting,
            "live": meeting is not None and meeting.status in Meeting.LIVE,
            "slots": [slot for slot in slots if slot.starts_at > now],
            "zone": zone,
            "zone_chosen": bool(chosen),
            "zone_form": ProspectZoneForm(initial={"tz": zone})
            if not zone_form.is_bound
            else zone_form,
            "error": problem,
            "attendance_open": bool(meeting and meeting.attendance_due),
            "attendance_url": links.attendance_path(meeting, "prospect") if meeting else "",
            "now": now,
        },
        status=409 if problem else 200,
    )


@public
@require_POST
def prospect_call_cancel(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    try:
        ref = _prospect_ref(pk, token)
    except services.ReferenceError as error:
        return _link_problem(request, error)
    try:
        services.meeting_cancel(request=ref, by="prospect")
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Cancelled: everyone gets the cancellation."))
    return redirect("references:prospect_call", pk=pk, token=token)


@public
def prospect_call_ics(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    try:
        ref = _prospect_ref(pk, token)
    except services.ReferenceError as error:
        return _link_problem(request, error)
    return _ics_response(selectors.meeting_for_request(ref))


# --- One-click "did the call happen?" (advocate and prospect, no sign-in) -----------------


@public
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """GET shows the question (a link preview or a mail scanner changes nothing); the
    one button posts the answer the email's link chose."""
    try:
        data = signing.loads(
            token, salt=links.ATTENDANCE_SALT, max_age=timedelta(days=ATTENDANCE_LINK_DAYS)
        )
    except signing.SignatureExpired:
        return _link_problem(
            request,
            services.LinkExpired(
                _("This link has expired. Ask your contact at the company to record your answer.")
            ),
        )
    except signing.BadSignature:
        return _link_problem(
            request,
            services.LinkInvalid(_("This link is not valid. Check that you copied all of it.")),
        )
    meeting = selectors.meeting_by_token_side(pk)
    if (
        not isinstance(data, dict)
        or meeting is None
        or data.get("m") != meeting.pk
        or data.get("u") != meeting.uid
        or data.get("s") not in ("advocate", "prospect")
    ):
        return _link_problem(
            request, services.LinkInvalid(_("This link is not valid for this page."))
        )
    side = data["s"]
    if request.method == "POST" and _answer(request, meeting, side):
        return redirect("references:attendance", pk=pk, token=token)
    meeting.refresh_from_db()
    zone = zone_or_default(
        meeting.time_zone if side == "advocate" else meeting.prospect_time_zone or meeting.time_zone
    )
    return render(
        request,
        "references/attendance.html",
        {
            "meeting": meeting,
            "ref": meeting.ask.request,
            "advocate": meeting.ask.advocate,
            "side": side,
            "answer": getattr(meeting, f"{side}_attended"),
            "suggested": request.GET.get("held", ""),
            "zone": zone,
            "attendance_open": bool(meeting and meeting.attendance_due),
        },
    )


# --- The rep, on the request's page ----------------------------------------------------------


def _staff_meeting(request: AuthenticatedHttpRequest, pk: int) -> tuple[ReferenceRequest, Meeting]:
    ref = _request_or_404(request, pk)
    meeting = selectors.meeting_for_request(ref)
    if meeting is None:
        raise Http404("No call was scheduled in Vouch for this request.")
    return ref, meeting


@staff_required
@require_POST
def request_meeting_time(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The rep enters the time booked on the advocate's booking page, or moves the call."""
    ref = _request_or_404(request, pk)
    form = MeetingTimeForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ReferenceError(_form_errors(form))
        services.meeting_time_set(
            request=ref,
            wall=form.cleaned_data["when"],
            time_zone=form.cleaned_data["time_zone"],
            by="rep",
        )
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Call booked for this time: everyone gets the invitation."))
    return redirect("references:request_detail", pk=ref.pk)


@staff_required
@require_POST
def request_meeting_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ref = _request_or_404(request, pk)
    try:
        services.meeting_cancel(request=ref, by="rep")
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Cancelled: everyone gets the cancellation."))
    return redirect("references:request_detail", pk=ref.pk)


@staff_required
@require_POST
def request_meeting_attended(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ref, meeting = _staff_meeting(request, pk)
    _answer(request, meeting, "rep")
    return redirect("references:request_detail", pk=ref.pk)


@staff_required
def request_meeting_ics(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _ref, meeting = _staff_meeting(request, pk)
    return _ics_response(meeting)


# --- Managers: disputed calls ----------------------------------------------------------------


@manager_required
def disputes(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(selectors.disputes()[:DISPUTES_PAGE])
    return render(
        request,
        "references/disputes.html",
        {"rows": rows, "page_size": DISPUTES_PAGE},
    )


@manager_required
@require_POST
def dispute_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether the call took place."))
        return redirect("references:disputes")
    try:
        services.dispute_resolve(
            meeting_id=meeting.pk,
            by=request.user,
            held=form.cleaned_data["held"],
            note=form.cleaned_data["note"],
        )
    except services.ReferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Counted: the call counts toward points and the cap.")
            if form.cleaned_data["held"]
            else _("Recorded: the call does not count."),
        )
    return redirect("references:disputes")
