"""Walks every URL the project defines and checks each role gets the expected status."""

from __future__ import annotations

import importlib

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories
from tests.authz import ROLES, Case, World

APPS = (
    "core",
    "advocates",
    "rewards",
    "challenges",
    "discussions",
    "references",
    "referrals",
    "campaigns",
    "console",
    "integrations",
    "api",
)
# Third-party URL sets are protected by their own code and tests (allauth, Django admin).
FOREIGN_NAMESPACES = {"admin"}
FOREIGN_MODULES = ("allauth.",)


def _modules() -> list:
    modules = []
    for app in APPS:
        try:
            modules.append(importlib.import_module(f"tests.{app}.authz"))
        except ModuleNotFoundError as error:
            if error.name != f"tests.{app}.authz" and error.name != f"tests.{app}":
                raise
    return modules


MODULES = _modules()
CASES: list[Case] = [case for module in MODULES for case in module.CASES]


def _url_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            module = getattr(pattern.urlconf_module, "__name__", "")
            if pattern.namespace in FOREIGN_NAMESPACES or module.startswith(FOREIGN_MODULES):
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _url_names(pattern, namespace)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                names.add(prefix + pattern.name)
            else:
                names.add(f"<unnamed {pattern.pattern}>")
    return names


def test_every_url_has_an_authorization_case() -> None:
    defined = _url_names(get_resolver())
    covered = {case.name for case in CASES}
    assert not sorted(defined - covered), "URLs with no authorization case"
    assert not sorted(covered - defined), "cases for URLs that do not exist"


@pytest.fixture
def world(db) -> World:
    world = World(
        advocate=factories.AdvocateFactory(user__email="ada@example.com"),
        other_advocate=factories.AdvocateFactory(user__email="otto@example.com"),
        rep=factories.RepFactory(email="rep@example.com"),
        other_rep=factories.RepFactory(email="rep2@example.com"),
        manager=factories.ManagerFactory(email="manager@example.com"),
        admin=factories.UserFactory(email="admin@example.com", is_staff=True, is_superuser=True),
    )
    world.advocate.owner_rep = world.rep
    world.advocate.save()
    for module in MODULES:
        if hasattr(module, "setup"):
            module.setup(world)
    return world


def _user(world: World, role: str):
    person = getattr(world, role)
    return getattr(person, "user", person)


@pytest.mark.parametrize("case", CASES, ids=[case.id() for case in CASES])
def test_role_gets_expected_status(case: Case, world: World) -> None:
    kwargs = case.kwargs(world) if callable(case.kwargs) else case.kwargs
    url = reverse(case.name, kwargs=kwargs)
    mismatches = []
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(_user(world, role))
        data = case.data(world) if callable(case.data) else (case.data or {})
        headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
        response = getattr(client, case.method)(url, data=data, **headers)
        if response.status_code != case.expect[role]:
            mismatches.append(f"{role}: expected {case.expect[role]}, got {response.status_code}")
    assert not mismatches, f"{case.id()} {url}: " + "; ".join(mismatches)
