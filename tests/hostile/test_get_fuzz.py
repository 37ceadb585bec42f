"""Every page of the authorization matrix, opened with hostile query strings.

Filters, search boxes, page numbers and date ranges come from the URL, so anyone can
send anything: the field names come from the page's own GET forms, the matrix's data
and the usual suspects (page, q, sort, start, end...). Never a 5xx, and a GET writes
nothing (beyond a lazily created singleton).
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.authz import Case, World
from tests.hostile.harness import changed, client_for, forms_on, table_counts
from tests.hostile.payloads import EXAMPLES, field_value, hostile_settings
from tests.hostile.tally import tried
from tests.test_authorization import CASES

pytestmark = pytest.mark.django_db

COMMON = [
    "page",
    "q",
    "sort",
    "order",
    "start",
    "end",
    "since",
    "until",
    "scope",
    "status",
    "open",
    "kind",
    "stage",
    "industry",
    "next",
    "days",
    "period",
]
PREFERENCE = ("manager", "rep", "advocate", "anonymous")


def _targets() -> list[tuple[str, str, Case, bool]]:
    by_name: dict[str, list[Case]] = defaultdict(list)
    for case in CASES:
        if case.method == "get":
            by_name[case.name].append(case)
    targets = []
    for name, cases in sorted(by_name.items()):
        for role in PREFERENCE:
            case = next((c for c in cases if c.expect[role] == 200), None)
            if case:
                targets.append((name, role, case, any(c.htmx for c in cases)))
                break
    return targets


TARGETS = _targets()


@pytest.mark.parametrize(
    ("name", "role", "case", "htmx_too"), TARGETS, ids=[f"{t[0]} as {t[1]}" for t in TARGETS]
)
def test_hostile_query_strings_never_fail_or_write(
    name: str, role: str, case: Case, htmx_too: bool, world: World
) -> None:
    kwargs = case.kwargs(world) if callable(case.kwargs) else case.kwargs
    url = reverse(name, kwargs=kwargs)
    client = client_for(world, role)
    fields: dict[str, list[str]] = {key: [] for key in COMMON}
    page = client.get(url)
    if "html" in page.get("Content-Type", ""):
        for form in forms_on(page.content.decode(errors="replace"), url, method="get"):
            for key, spec in form.fields.items():
                fields.setdefault(key, []).extend(spec["options"])
    data = case.data(world) if callable(case.data) else (case.data or {})
    for key, value in data.items():
        fields.setdefault(key, []).append(str(value))
    strategy = st.fixed_dictionaries(
        {}, optional={key: field_value(options) for key, options in fields.items()}
    )

    @hostile_settings(max(4, EXAMPLES // 2))
    @given(query=strategy, htmx=st.booleans() if htmx_too else st.just(False))
    def get(query: dict, htmx: bool) -> None:
        tried("query strings")
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        with transaction.atomic():
            before = table_counts()
            response = client.get(url, data=query, **headers)
            if response.streaming:
                b"".join(response)
            assert response.status_code < 500
            assert not changed(before, table_counts()), f"GET {url} wrote rows"
            transaction.set_rollback(True)

    get()
