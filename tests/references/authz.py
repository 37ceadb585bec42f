"""Authorization cases for the references app, and the relationship-graph pages.

The world holds one request of ``rep``'s with an agreed call, and a pending ask to
``advocate`` on another request of ``rep``'s: ``other_rep`` and ``other_advocate``
probe cross-user access (404).
"""

from tests.authz import ADVOCATES, MANAGERS, STAFF, Case, World, allowed, everyone

STAFF_OWN = allowed(roles=STAFF, overrides={"other_rep": 404})
STAFF_OWN_POST = allowed(302, roles=STAFF, overrides={"other_rep": 404})


def setup(world: World) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from references.links import prospect_token
    from references.models import Ask, IndustryWeights, Meeting, ReferenceDrive, ReferenceRequest
    from tests.references.factories import AskFactory, MeetingFactory, ReferenceRequestFactory

    request = ReferenceRequestFactory(
        rep=world.rep, status=ReferenceRequest.Status.WITH_PROSPECT, link_nonce="n1"
    )
    world.objects["request"] = request
    from advocates.models import Person

    world.objects["graph_person"] = Person.objects.create(
        full_name="Graph Contact", email="graph.contact@example.com", company_name="Initech"
    )
    world.objects["ask"] = AskFactory(
        request=ReferenceRequestFactory(rep=world.rep, status=ReferenceRequest.Status.ASKED),
        advocate=world.advocate,
        status=Ask.Status.PENDING,
    )
    world.objects["token"] = prospect_token(request)
    drive = ReferenceDrive.objects.create(name="Spring drive", created_by=world.rep)
    drive.requests.set([ReferenceRequestFactory(rep=world.rep)])
    world.objects["drive"] = drive
    world.objects["industry_weights"] = IndustryWeights.objects.create(for_industry="Retail")
    # A call booked in Vouch: an accepted ask of ``advocate``'s with a meeting in two days.
    booked = ReferenceRequestFactory(
        rep=world.rep, status=ReferenceRequest.Status.SCHEDULED, link_nonce="n2"
    )
    accepted = AskFactory(request=booked, advocate=world.advocate, status=Ask.Status.ACCEPTED)
    world.objects["booked"] = booked
    world.objects["accepted"] = accepted
    world.objects["meeting"] = MeetingFactory(
        ask=accepted,
        status=Meeting.Status.SCHEDULED,
        starts_at=timezone.now() + timedelta(days=2),
    )


def _drive(world: World) -> dict:
    return {"pk": world["drive"].pk}


def _industry(world: World) -> dict:
    return {"pk": world["industry_weights"].pk}


def _req(world: World) -> dict:
    return {"pk": world["request"].pk}


def _person(world: World) -> dict:
    return {"pk": world["graph_person"].pk}


def _ask(world: World) -> dict:
    return {"pk": world["ask"].pk}


def _link(world: World) -> dict:
    return {"pk": world["request"].pk, "token": world["token"]}


def _feedback_link(world: World) -> dict:
    from references.links import FEEDBACK_SALT, prospect_token

    return {
        "pk": world["request"].pk,
        "token": prospect_token(world["request"], purpose=FEEDBACK_SALT),
    }


def _booked(world: World) -> dict:
    return {"pk": world["booked"].pk}


def _accepted(world: World) -> dict:
    return {"pk": world["accepted"].pk}


def _call_link(world: World) -> dict:
    from references.links import CALL_SALT, prospect_token

    return {"pk": world["booked"].pk, "token": prospect_token(world["booked"], purpose=CALL_SALT)}


def _attendance_link(world: World) -> dict:
    from references.links import attendance_token

    return {"pk": world["meeting"].pk, "token": attendance_token(world["meeting"], "advocate")}


def _meeting(world: World) -> dict:
    return {"pk": world["meeting"].pk}


OWN_CALL = allowed(roles=ADVOCATES, overrides={"other_advocate": 404})
OWN_CALL_POST = allowed(302, roles=ADVOCATES, overrides={"other_advocate": 404})

CASES = [
    Case("references:requests", expect=allowed(roles=STAFF)),
    Case("references:requests", htmx=True, expect=allowed(roles=STAFF)),
    Case("references:request_new", expect=allowed(roles=STAFF)),
    # An empty form comes back with its errors.
    Case("references:request_new", method="post", expect=allowed(roles=STAFF)),
    Case("references:request_detail", kwargs=_req, expect=STAFF_OWN),
    Case("references:request_detail", kwargs=_req, htmx=True, expect=STAFF_OWN),
    Case("references:request_send", method="post", kwargs=_req, expect=STAFF_OWN_POST),
    Case("references:request_ask", method="post", kwargs=_req, expect=STAFF_OWN_POST),
    Case("references:request_call", method="post", kwargs=_req, expect=STAFF_OWN_POST),
    Case("references:request_close", method="post", kwargs=_req, expect=STAFF_OWN_POST),
    Case("references:graph", expect=allowed(roles=STAFF)),
    Case("references:graph", method="post", expect=allowed(roles=STAFF)),
    Case("references:graph", htmx=True, expect=allowed(roles=STAFF)),
    # The graph is shared by every rep and manager: any of them sees and annotates anyone.
    Case("references:graph_person", kwargs=_person, expect=allowed(roles=STAFF)),
    Case(
        "references:graph_person",
        method="post",
        kwargs=_person,
        data={"interests": "data privacy; ROI"},
        expect=allowed(302, roles=STAFF),
    ),
    Case("references:graph_person", kwargs={"pk": 999999}, expect=allowed(404, roles=STAFF)),
    Case("references:console", expect=allowed(roles=MANAGERS)),
    Case("references:weights", expect=allowed(roles=MANAGERS)),
    Case("references:weights", method="post", expect=allowed(roles=MANAGERS)),
    Case("references:industry_weights_new", expect=allowed(roles=MANAGERS)),
    Case("references:industry_weights_new", method="post", expect=allowed(roles=MANAGERS)),
    Case("references:industry_weights_edit", kwargs=_industry, expect=allowed(roles=MANAGERS)),
    Case(
        "references:industry_weights_edit",
        method="post",
        kwargs=_industry,
        expect=allowed(roles=MANAGERS),
    ),
    # Reference drives: reps and managers run them, advocates pick or pass.
    Case("references:drives", expect=allowed(roles=STAFF)),
    Case("references:drives", method="post", expect=allowed(roles=STAFF)),
    Case("references:drive_close", method="post", kwargs=_drive, expect=STAFF_OWN_POST),
    Case("references:drive_pick", method="post", expect=allowed(302, roles=ADVOCATES)),
    Case("references:drive_pass", method="post", expect=allowed(302, roles=ADVOCATES)),
    Case("references:my_requests", expect=allowed(roles=ADVOCATES)),
    Case("references:pause", method="post", expect=allowed(302, roles=ADVOCATES)),
    Case(
        "references:ask_answer",
        method="post",
        kwargs=_ask,
        data={"answer": "decline"},
        expect=allowed(302, roles=ADVOCATES, overrides={"other_advocate": 404}),
    ),
    Case(
        "references:ask_feedback",
        method="post",
        kwargs=_ask,
        expect=allowed(302, roles=ADVOCATES, overrides={"other_advocate": 404}),
    ),
    # The prospect has no account: the signed link is the key, whoever opens it.
    Case("references:prospect", kwargs=_link, expect=everyone(200)),
    Case("references:prospect_feedback", kwargs=_feedback_link, expect=everyone(200)),
    # Scheduling the call and attendance.
    Case("references:ask_call", kwargs=_accepted, expect=OWN_CALL),
    Case("references:ask_call", method="post", kwargs=_accepted, expect=OWN_CALL_POST),
    Case("references:ask_call_time", method="post", kwargs=_accepted, expect=OWN_CALL_POST),
    Case("references:ask_call_cancel", method="post", kwargs=_accepted, expect=OWN_CALL_POST),
    Case("references:ask_call_attended", method="post", kwargs=_accepted, expect=OWN_CALL_POST),
    Case("references:ask_call_ics", kwargs=_accepted, expect=OWN_CALL),
    Case("references:prospect_call", kwargs=_call_link, expect=everyone(200)),
    # No slot picked: the page comes back with the message.
    Case("references:prospect_call", method="post", kwargs=_call_link, expect=everyone(409)),
    Case("references:prospect_call_cancel", method="post", kwargs=_call_link, expect=everyone(302)),
    Case("references:prospect_call_ics", kwargs=_call_link, expect=everyone(200)),
    Case("references:attendance", kwargs=_attendance_link, expect=everyone(200)),
    Case("references:attendance", method="post", kwargs=_attendance_link, expect=everyone(200)),
    Case("references:request_meeting_time", method="post", kwargs=_booked, expect=STAFF_OWN_POST),
    Case("references:request_meeting_cancel", method="post", kwargs=_booked, expect=STAFF_OWN_POST),
    Case(
        "references:request_meeting_attended", method="post", kwargs=_booked, expect=STAFF_OWN_POST
    ),
    Case("references:request_meeting_ics", kwargs=_booked, expect=STAFF_OWN),
    Case("references:disputes", expect=allowed(roles=MANAGERS)),
    Case(
        "references:dispute_resolve",
        method="post",
        kwargs=_meeting,
        expect=allowed(302, roles=MANAGERS),
    ),
]
