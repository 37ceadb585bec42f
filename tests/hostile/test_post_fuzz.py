"""Every URL of the authorization matrix, posted generated data by a role allowed to use it.

Built from the matrix (tests/authz.py, tests/*/authz.py), so a new URL is covered as soon
as it has its authorization cases. For each URL name the test takes a role the matrix
lets in, reads the field names of the page's own POST forms (and the POST cases' data),
then posts hostile values: unicode, NUL bytes, 100,000-character strings, huge and
negative numbers, impossible dates, lists where one value is expected, missing and
unknown fields, garbage files. It asserts:

- never a 5xx (and no exception escapes a view), never a redirect off the site;
- a refusal (4xx, or the form shown again with errors) changes no table of the project;
- balances still equal the sum of their ledger entries.

Each example runs in a savepoint that is rolled back, so examples do not see each
other's writes. The CRM webhook has its own suite (test_webhooks.py).
"""

from __future__ import annotations

import copy
from collections import defaultdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.authz import Case, World
from tests.conftest import ledger_violations
from tests.hostile.harness import changed, client_for, forms_on, offsite, table_counts
from tests.hostile.payloads import EXAMPLES, field_value, file_bytes, hostile_settings, scalar
from tests.hostile.tally import tried
from tests.test_authorization import CASES

pytestmark = pytest.mark.django_db

# JSON endpoints signed by a partner: fuzzed with valid signatures in test_webhooks.py.
OWN_SUITE = {"referrals:crm_events"}
PREFERENCE = ("manager", "rep", "advocate", "admin", "anonymous")
USABLE = {200, 201, 204, 302, 400, 409, 422}
ERROR_MARKERS = ('class="errorlist', "alert--error", 'aria-invalid="true"')


def _pick(cases: list[Case]) -> tuple[str, Case] | None:
    """A role the matrix lets use this URL, with the case (and kwargs) that says so."""
    ordered = sorted(cases, key=lambda c: c.method != "post")
    for role in PREFERENCE:
        for case in ordered:
            status = case.expect[role]
            if (status == 200) if role == "anonymous" else (status in USABLE):
                return role, case
    return None


def _targets() -> list[tuple[str, str, Case, list[Case]]]:
    by_name: dict[str, list[Case]] = defaultdict(list)
    for case in CASES:
        by_name[case.name].append(case)
    targets = []
    for name, cases in sorted(by_name.items()):
        picked = None if name in OWN_SUITE else _pick(cases)
        if picked:
            targets.append((name, picked[0], picked[1], cases))
    return targets


TARGETS = _targets()


def _fields(client, url: str, role_case: Case, cases: list[Case], world: World) -> dict:
    """Field name -> spec, from the page's POST forms aimed at ``url`` and the POST cases."""
    fields: dict[str, dict] = {}
    page = client.get(url)
    if page.status_code == 200 and "html" in page.get("Content-Type", ""):
        for form in forms_on(page.content.decode(errors="replace"), url):
            if form.action == url:
                for name, spec in form.fields.items():
                    fields.setdefault(name, spec)
    for case in cases:
        if case.method == "post" and case.data is not None:
            data = case.data(world) if callable(case.data) else case.data
            for name, value in data.items():
                fields.setdefault(name, {"type": "text", "options": [], "value": ""})
                fields[name]["options"].append(str(value))
    return fields


def _strategy(fields: dict) -> st.SearchStrategy:
    optional = {}
    for name, spec in fields.items():
        if spec["type"] == "file":
            optional[name] = file_bytes.map(
                lambda b, n=name: SimpleUploadedFile(f"{n}.png", b, content_type="image/png")
            )
        else:
            optional[name] = field_value([o for o in spec["options"] if o is not None])
    known = st.fixed_dictionaries({}, optional=optional)
    extra = st.dictionaries(
        st.sampled_from(
            [
                "id",
                "pk",
                "advocate",
                "user",
                "points",
                "balance",
                "status",
                "is_staff",
                "amount",
                "next",
            ]
        ),
        scalar,
        max_size=2,
    )
    return st.tuples(known, extra).map(lambda pair: pair[1] | pair[0])


def _looks_refused(response) -> bool:
    if response.status_code >= 400:
        return True
    if response.status_code == 200 and "html" in response.get("Content-Type", ""):
        body = response.content.decode(errors="replace")
        return any(marker in body for marker in ERROR_MARKERS)
    return False


@pytest.mark.parametrize(
    ("name", "role", "case", "cases"),
    TARGETS,
    ids=[f"{t[0]} as {t[1]}" for t in TARGETS],
)
def test_hostile_posts_never_fail_or_half_write(
    name: str, role: str, case: Case, cases: list[Case], world: World
) -> None:
    kwargs = case.kwargs(world) if callable(case.kwargs) else case.kwargs
    url = reverse(name, kwargs=kwargs)
    fields = _fields(client_for(world, role), url, case, cases, world)
    htmx_too = any(c.htmx for c in cases)
    # A URL with no form is still posted to (it must answer 405 or refuse), but briefly.
    examples = EXAMPLES if fields else max(2, EXAMPLES // 4)

    client = client_for(world, role)
    cookies = client.cookies

    @hostile_settings(examples)
    @given(data=_strategy(fields), htmx=st.booleans() if htmx_too else st.just(False))
    def post(data: dict, htmx: bool) -> None:
        tried("form posts")
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        # The session row outlives the rolled-back savepoint; a cookie the example set
        # (a new session after a log-in) would not: start each example with the first.
        client.cookies = copy.copy(cookies)
        with transaction.atomic():
            before = table_counts()
            response = client.post(url, data=data, **headers)
            assert response.status_code < 500, f"{response.status_code} from POST {url}"
            if response.has_header("Location"):
                assert not offsite(response["Location"]), f"open redirect: {response['Location']}"
            if _looks_refused(response):
                assert not changed(before, table_counts()), (
                    f"POST {url} was refused ({response.status_code}) but wrote rows: "
                    f"{changed(before, table_counts())}"
                )
            assert not ledger_violations()
            transaction.set_rollback(True)

    post()
