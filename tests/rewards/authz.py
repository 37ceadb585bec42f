"""Authorization cases for the reward catalog, redemptions and fulfilment."""

from __future__ import annotations

import uuid

from tests.authz import ADVOCATES, MANAGERS, Case, World, allowed, everyone


def setup(world: World) -> None:
    from tests.rewards.factories import RewardFactory, give_points, redeem

    reward = RewardFactory(name="Authz mug", points_cost=10)
    world.objects["reward"] = reward
    # Owned by ``advocate``: ``other_advocate`` must get a 404 for it, not its code.
    world.objects["redemption"] = redeem(world.advocate, reward)
    give_points(world.advocate, 1000)
    give_points(world.other_advocate, 1000)


def _reward(world: World) -> dict:
    return {"pk": world["reward"].pk}


def _redemption(world: World) -> dict:
    return {"pk": world["redemption"].pk}


def _fresh_token(world: World) -> dict:
    # A new one-time token per request, as each confirmation page would carry; the
    # repeat confirmed, since ``advocate`` redeemed this reward moments ago in setup.
    return {"token": uuid.uuid4().hex, "again": "1"}


CASES = [
    Case("rewards:catalog", expect=allowed(roles=ADVOCATES)),
    Case("rewards:catalog", htmx=True, expect=allowed(roles=ADVOCATES)),
    Case("rewards:redeem", kwargs=_reward, expect=allowed(roles=ADVOCATES)),
    Case(
        "rewards:redeem",
        method="post",
        kwargs=_reward,
        data=_fresh_token,
        expect=allowed(302, roles=ADVOCATES),
    ),
    Case("rewards:my_redemptions", expect=allowed(roles=ADVOCATES)),
    # Another advocate's redemption (and its gift-card code) does not exist for them.
    Case(
        "rewards:redemption",
        kwargs=_redemption,
        expect=allowed(roles=ADVOCATES, overrides={"other_advocate": 404}),
    ),
    Case("rewards:manage", expect=allowed(roles=MANAGERS)),
    Case("rewards:create", expect=allowed(roles=MANAGERS)),
    Case(
        "rewards:create",
        method="post",
        data={"name": ""},  # invalid: the form comes back with its errors
        expect=allowed(roles=MANAGERS),
    ),
    Case("rewards:edit", kwargs=_reward, expect=allowed(roles=MANAGERS)),
    Case("rewards:deactivate", method="post", kwargs=_reward, expect=allowed(302, roles=MANAGERS)),
    Case("rewards:fulfilment", expect=allowed(roles=MANAGERS)),
    Case("rewards:fulfilment", htmx=True, expect=allowed(roles=MANAGERS)),
    Case("rewards:approve", method="post", kwargs=_redemption, expect=allowed(302, roles=MANAGERS)),
    Case(
        "rewards:approve",
        method="post",
        kwargs=_redemption,
        htmx=True,
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "rewards:fulfil",
        method="post",
        kwargs=_redemption,
        data={"note": "TRACK-1"},
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("rewards:cancel", method="post", kwargs=_redemption, expect=allowed(302, roles=MANAGERS)),
    # No provider order to retry: back to the queue with a message.
    Case(
        "rewards:provider_retry",
        method="post",
        kwargs=_redemption,
        expect=allowed(302, roles=MANAGERS),
    ),
    # Signed by Tremendous, not a user: 404 until it is configured (tests/rewards/
    # test_tremendous.py covers signatures); POST only.
    Case("rewards:tremendous_webhook", method="post", expect=everyone(404)),
    Case("rewards:tremendous_webhook", expect=everyone(405)),
]
