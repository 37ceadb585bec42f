"""Authorization cases for the challenges app (shared: progress and leaderboards add theirs).

``advocate`` owns the submission; ``other_advocate`` asking for it gets a 404.
"""

from tests.authz import ADVOCATES, MANAGERS, Case, World, allowed

# Advocates only; staff without an advocate profile get 403.
ADVOCATE_ONLY = allowed(roles=ADVOCATES)
MANAGER_ONLY = allowed(roles=MANAGERS)


def setup(world: World) -> None:
    from tests.challenges.factories import ChallengeFactory, SubmissionFactory

    world.objects["challenge"] = ChallengeFactory(title="Authz challenge")
    world.objects["submission"] = SubmissionFactory(
        challenge=world.objects["challenge"], advocate=world.advocate
    )


def _challenge(world: World) -> dict:
    return {"pk": world["challenge"].pk}


def _submission(world: World) -> dict:
    return {"pk": world["submission"].pk}


CASES = [
    # --- advocates
    Case("challenges:list", expect=ADVOCATE_ONLY),
    Case("challenges:detail", kwargs=_challenge, expect=ADVOCATE_ONLY),
    # Each advocate may submit once; a refused or invalid post still answers: the
    # no-JS path redirects (302) or shows the form again (400) — never to staff.
    Case(
        "challenges:submit",
        method="post",
        kwargs=_challenge,
        data={},
        expect=allowed(400, roles=ADVOCATES),
    ),
    Case(
        "challenges:submit",
        method="post",
        kwargs=_challenge,
        data={},
        htmx=True,
        expect=allowed(200, roles=ADVOCATES),
    ),
    # Another advocate's submission does not exist for them.
    Case(
        "challenges:submission",
        kwargs=_submission,
        expect=allowed(roles=ADVOCATES, overrides={"other_advocate": 404}),
    ),
    # --- managers
    Case("challenges:manage", expect=MANAGER_ONLY),
    Case("challenges:manage", htmx=True, expect=MANAGER_ONLY),
    Case("challenges:create", expect=MANAGER_ONLY),
    Case("challenges:create", method="post", data={}, expect=MANAGER_ONLY),
    Case("challenges:edit", kwargs=_challenge, expect=MANAGER_ONLY),
    Case(
        "challenges:publish", method="post", kwargs=_challenge, expect=allowed(302, roles=MANAGERS)
    ),
    Case("challenges:archive", kwargs=_challenge, expect=MANAGER_ONLY),
    Case("challenges:review", expect=MANAGER_ONLY),
    # A reject without a reason is refused, so the matrix changes nothing it runs on.
    Case(
        "challenges:review_decide",
        method="post",
        kwargs=_submission,
        data={"action": "reject"},
        expect=allowed(302, roles=MANAGERS),
    ),
    Case(
        "challenges:review_decide",
        method="post",
        kwargs=_submission,
        data={"action": "reject"},
        htmx=True,
        expect=MANAGER_ONLY,
    ),
    Case(
        "challenges:review_bulk",
        method="post",
        data={"action": "reject"},
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("challenges:nps", expect=MANAGER_ONLY),
]

# --- Levels, badges, notifications, leaderboards ---------------------------------------
CASES += [
    Case("challenges:leaderboard", expect=allowed(roles=(*ADVOCATES, *MANAGERS))),
    Case("challenges:leaderboard", htmx=True, expect=allowed(roles=(*ADVOCATES, *MANAGERS))),
    # A group's board: its members (``advocate``, set up in tests/advocates/authz.py)
    # and managers; ``other_advocate`` only asked to join, so it is a 404 to them.
    Case(
        "challenges:group_leaderboard",
        kwargs=lambda w: {"pk": w["group"].pk},
        expect=allowed(roles=(*MANAGERS,), overrides={"advocate": 200, "other_advocate": 404}),
    ),
    Case("challenges:levels", expect=MANAGER_ONLY),
    Case("challenges:notifications_read", method="post", expect=allowed(302, roles=ADVOCATES)),
    Case(
        "challenges:notifications_read",
        method="post",
        htmx=True,
        expect=allowed(roles=ADVOCATES),
    ),
    # A POST with neither form's button saves nothing and shows the page again.
    Case("challenges:levels", method="post", expect=MANAGER_ONLY),
]
