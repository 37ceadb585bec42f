"""Authorization cases for the community (discussions).

The thread is in a group ``advocate`` belongs to and ``other_advocate`` does not, so
every thread URL is a 404 for ``other_advocate``; reps have no part in the community.
"""

from tests.authz import ADVOCATES, MANAGERS, Case, World, allowed

COMMUNITY = ("advocate", "other_advocate", "manager")
MANAGER_ONLY = allowed(roles=MANAGERS)
IN_GROUP = {"other_advocate": 404}


def setup(world: World) -> None:
    from tests.discussions.factories import ReplyFactory, ThreadFactory
    from tests.factories import GroupFactory, GroupMembershipFactory

    group = GroupFactory(name="Authz discussion group")
    GroupMembershipFactory(group=group, advocate=world.advocate)
    thread = ThreadFactory(author=world.advocate.user, group=group)
    world.objects["thread"] = thread
    world.objects["reply"] = ReplyFactory(thread=thread, author=world.manager)
    from discussions.models import Report

    world.objects["report"] = Report.objects.create(
        thread=thread, reporter=world.advocate.user, reason="Off topic"
    )


def _thread(world: World) -> dict:
    return {"pk": world["thread"].pk}


def _reply(world: World) -> dict:
    return {"pk": world["reply"].pk}


def _report(world: World) -> dict:
    return {"pk": world["report"].pk}


CASES = [
    Case("discussions:list", expect=allowed(roles=COMMUNITY)),
    Case("discussions:new", expect=allowed(roles=COMMUNITY)),
    # An empty form is refused (400) and changes nothing.
    Case("discussions:new", method="post", data={}, expect=allowed(400, roles=COMMUNITY)),
    Case(
        "discussions:thread",
        kwargs=_thread,
        expect=allowed(roles=COMMUNITY, overrides=IN_GROUP),
    ),
    # An empty reply: the no-JS path redirects back with a message, htmx answers the form.
    Case(
        "discussions:reply",
        method="post",
        kwargs=_thread,
        data={},
        expect=allowed(302, roles=COMMUNITY, overrides=IN_GROUP),
    ),
    Case(
        "discussions:reply",
        method="post",
        kwargs=_thread,
        data={},
        htmx=True,
        expect=allowed(roles=COMMUNITY, overrides=IN_GROUP),
    ),
    # A question takes no votes: refused with a message, nothing changes.
    Case(
        "discussions:vote",
        method="post",
        kwargs=_thread,
        expect=allowed(302, roles=COMMUNITY, overrides=IN_GROUP),
    ),
    Case(
        "discussions:unaccept",
        method="post",
        kwargs=_thread,
        expect=allowed(302, roles=COMMUNITY, overrides=IN_GROUP),
    ),
    Case(
        "discussions:accept",
        method="post",
        kwargs=_reply,
        expect=allowed(302, roles=COMMUNITY, overrides=IN_GROUP),
    ),
    # A report with no reason is refused; managers hide posts instead of reporting.
    Case(
        "discussions:report",
        method="post",
        kwargs=_thread,
        data={},
        expect=allowed(302, roles=ADVOCATES, overrides=IN_GROUP),
    ),
    # --- managers
    Case(
        "discussions:status",
        method="post",
        kwargs=_thread,
        data={},
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("discussions:lock", method="post", kwargs=_thread, expect=allowed(302, roles=MANAGERS)),
    Case("discussions:hide", method="post", kwargs=_thread, expect=allowed(302, roles=MANAGERS)),
    Case(
        "discussions:reply_hide",
        method="post",
        kwargs=_reply,
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("discussions:moderation", expect=MANAGER_ONLY),
    Case(
        "discussions:report_decide",
        method="post",
        kwargs=_report,
        data={},
        expect=allowed(302, roles=MANAGERS),
    ),
]
