"""The authorization matrix: every URL name × role × method, with the expected status.

Each app's tests contribute a ``CASES`` list in ``tests/<app>/authz.py``;
``tests/test_authorization.py`` walks every URL pattern the project defines and fails
if one has no case, then requests each case as each role.

Roles: anonymous, advocate, other_advocate, rep, other_rep, manager, admin.
``World`` holds the personas and the objects each app creates for its cases
(``setup`` functions), all owned by ``advocate`` / ``rep`` unless named otherwise, so
``other_advocate`` and ``other_rep`` probe cross-user access (expected: 404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("anonymous", "advocate", "other_advocate", "rep", "other_rep", "manager", "admin")
LOGIN = 302  # anonymous users are sent to the login page


@dataclass
class World:
    advocate: Any
    other_advocate: Any
    rep: Any
    other_rep: Any
    manager: Any
    admin: Any
    objects: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.objects[key]


@dataclass
class Case:
    name: str  # "namespace:url_name"
    expect: dict[str, int]
    method: str = "get"
    kwargs: Callable[[World], dict[str, Any]] | dict[str, Any] = field(default_factory=dict)
    data: Callable[[World], dict[str, Any]] | dict[str, Any] | None = None
    htmx: bool = False

    def __post_init__(self) -> None:
        missing = set(ROLES) - set(self.expect)
        assert not missing, f"{self.name}: no expectation for {sorted(missing)}"

    def id(self) -> str:
        return f"{self.method.upper()} {self.name}{' (htmx)' if self.htmx else ''}"


def allowed(
    ok: int = 200,
    *,
    roles: tuple[str, ...],
    others: int = 403,
    anonymous: int = LOGIN,
    overrides: dict[str, int] | None = None,
) -> dict[str, int]:
    """``ok`` for ``roles``; ``others`` for other signed-in roles; ``anonymous`` for no one."""
    expect = {role: (ok if role in roles else others) for role in ROLES}
    expect["anonymous"] = anonymous
    expect.update(overrides or {})
    return expect


ADVOCATES = ("advocate", "other_advocate")
STAFF = ("rep", "other_rep", "manager")
MANAGERS = ("manager",)


def everyone(status: int = 200) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)
