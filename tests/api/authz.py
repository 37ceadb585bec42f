"""Authorization cases for the console's API keys pages and every API URL.

The API itself answers to keys, not sessions: every signed-in role without a key gets
401 (tests/api/test_operations.py checks each operation with keys: revoked 401, no
scope 403, scope 200). The OpenAPI document and its docs page hold no data: public.
"""

from __future__ import annotations

from api.models import APIKey
from tests.authz import MANAGERS, Case, World, allowed, everyone


def setup(world: World) -> None:
    world.objects["api_key"] = APIKey.objects.create(
        name="Authz", prefix="vch_authz000", key_hash="0" * 64, scopes=["advocates:read"]
    )


def _key(world: World) -> dict:
    return {"pk": world["api_key"].pk}


def _id(world: World) -> dict:
    return {"id": world.advocate.pk}


RESOURCES = (
    "advocates",
    "companies",
    "challenges",
    "submissions",
    "rewards",
    "redemptions",
    "referrals",
    "reference_requests",
    "ledger",
)

CASES = [
    Case("api:keys", expect=allowed(roles=MANAGERS)),
    # Invalid (no name, no scope): the form comes back with its errors, nothing created.
    Case("api:keys", method="post", data={"name": ""}, expect=allowed(roles=MANAGERS)),
    Case("api:key_revoke", kwargs=_key, expect=allowed(405, roles=MANAGERS)),
    Case("api:key_revoke", method="post", kwargs=_key, expect=allowed(302, roles=MANAGERS)),
    Case("api-v1:openapi-json", expect=everyone(200)),
    Case("api-v1:openapi-view", expect=everyone(200)),
    # The version's root has no page of its own (ninja's placeholder): not found.
    Case("api-v1:api-root", expect=everyone(404)),
]
for resource in RESOURCES:
    CASES += [
        Case(f"api-v1:{resource}_list", expect=everyone(401)),
        Case(f"api-v1:{resource}_detail", kwargs=_id, expect=everyone(401)),
        Case(f"api-v1:{resource}_list", method="post", expect=everyone(405)),
    ]
