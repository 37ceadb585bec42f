"""Authorization cases for the references app, and the relationship-graph pages.

The world holds one request of ``rep``'s with an agreed call, and a pending ask to
``advocate`` on another request of ``rep``'s: ``other_rep`` and ``other_advocate``
probe cross-user access (404).
"""

from tests.authz import ADVOCATES, MANAGERS, STAFF, Case, World, allowed, everyone

STAFF_OWN = allowed(roles=STAFF, overrides={"other_rep": 404})
STAFF_OWN_POST = allowed(302, roles=STAFF, overrides={"other_rep": 404})


def setup(world: World) -> None:
    from references.links import prospect_token
    from references.models import Ask, ReferenceRequest
    from tests.references.factories import AskFactory, ReferenceRequestFactory

    request = ReferenceRequestFactory(
        rep=world.rep, status=ReferenceRequest.Status.WITH_PROSPECT, link_nonce="n1"
    )
    world.objects["request"] = request
    world.objects["ask"] = AskFactory(
        request=ReferenceRequestFactory(rep=world.rep, status=ReferenceRequest.Status.ASKED),
        advocate=world.advocate,
        status=Ask.Status.PENDING,
    )
    world.objects["token"] = prospect_token(request)


def _req(world: World) -> dict:
    return {"pk": world["request"].pk}


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
    Case("references:console", expect=allowed(roles=MANAGERS)),
    Case("references:weights", expect=allowed(roles=MANAGERS)),
    Case("references:weights", method="post", expect=allowed(roles=MANAGERS)),
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
]
