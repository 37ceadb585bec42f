"""Lists: cursor pages that survive inserts, their limits, bad input, and query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.pagination import MAX_LIMIT
from api.scopes import SCOPES
from tests.api.factories import api_key, bearer
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.factories import AdvocateFactory, CompanyFactory
from tests.references.factories import ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, give_points, redeem

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> str:
    return api_key()[1]


def _get(client, url: str, token: str, **params):
    return client.get(url, params, **bearer(token))


def test_pages_follow_next_to_the_end_without_repeats_even_when_rows_are_added(
    client, token
) -> None:
    companies = [CompanyFactory() for _ in range(5)]
    seen: list[int] = []
    page = _get(client, "/api/v1/companies", token, limit=2).json()
    seen += [row["id"] for row in page["results"]]
    CompanyFactory()  # added while the client pages: it comes at the end, once
    while page["next"]:
        assert page["next"].startswith("http://testserver/api/v1/companies?")
        page = client.get(page["next"], **bearer(token)).json()
        seen += [row["id"] for row in page["results"]]
    assert seen[:5] == [company.pk for company in companies]
    assert len(seen) == len(set(seen)) == 6


def test_a_row_changed_after_it_was_served_comes_again_later(client, token) -> None:
    first, second, third = CompanyFactory(), CompanyFactory(), CompanyFactory()
    page = _get(client, "/api/v1/companies", token, limit=2).json()
    assert [row["id"] for row in page["results"]] == [first.pk, second.pk]
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=1)):
        first.name = "Renamed"
        first.save()
    rest = client.get(page["next"], **bearer(token)).json()
    assert [row["id"] for row in rest["results"]] == [third.pk, first.pk]
    assert rest["results"][1]["name"] == "Renamed"


def test_next_keeps_updated_since(client, token) -> None:
    for _ in range(3):
        CompanyFactory()
    since = "2020-01-01T00:00:00Z"
    page = _get(client, "/api/v1/companies", token, limit=2, updated_since=since).json()
    assert "updated_since=2020-01-01T00%3A00%3A00Z" in page["next"]
    rest = client.get(page["next"], **bearer(token)).json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None


def test_times_are_iso_8601_utc(client, token) -> None:
    company = CompanyFactory()
    row = _get(client, f"/api/v1/companies/{company.pk}", token).json()
    assert row["updated_at"].endswith("Z")
    parsed = datetime.fromisoformat(row["updated_at"])
    assert parsed.tzinfo == UTC
    assert abs(parsed - company.updated_at) < timedelta(milliseconds=1)


def test_an_updated_since_without_offset_is_utc(client, token) -> None:
    CompanyFactory()
    future = (timezone.now() + timedelta(minutes=5)).astimezone(UTC).replace(tzinfo=None)
    assert (
        _get(client, "/api/v1/companies", token, updated_since=future.isoformat()).json()["results"]
        == []
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"cursor": "not-a-cursor"}, "Malformed cursor"),
        ({"cursor": "WyJ4IiwxXQ"}, "Malformed cursor"),  # base64 of ["x",1]
    ],
)
def test_bad_list_parameters_get_a_400_problem(client, token, params, message) -> None:
    response = _get(client, "/api/v1/companies", token, **params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert message in body["detail"]


def test_an_unknown_id_is_a_404_problem(client, token) -> None:
    response = _get(client, "/api/v1/advocates/999999", token)
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


def test_an_advocate_shows_what_a_manager_sees_and_no_secrets(client, token) -> None:
    advocate = AdvocateFactory(user__first_name="Ada", user__last_name="Lovelace")
    row = _get(client, f"/api/v1/advocates/{advocate.pk}", token).json()
    assert row["email"] == advocate.user.email
    assert (row["first_name"], row["last_name"]) == ("Ada", "Lovelace")
    assert row["company_id"] == advocate.company_id
    assert not {"password", "user", "avatar", "bio", "linkedin_url"} & set(row)


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_a_list_costs_the_same_queries_for_3_rows_as_for_30(client, program, scope) -> None:
    """The key's lookup and the page's one query, whatever the number of rows."""
    resource = scope.removesuffix(":read")
    _key, token = api_key([scope])
    _get(client, f"/api/v1/{resource}", token)  # the key's last_used_at, written once
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = _get(client, f"/api/v1/{resource}", token, limit=MAX_LIMIT)
        assert response.status_code == 200
        counts.append(len(queries))
        _more(resource)
    assert counts[0] == counts[1] == 2, counts


def _more(resource: str) -> None:
    """Ten more rows of ``resource`` (and of the others it hangs on)."""
    for _ in range(10):
        advocate = AdvocateFactory()
        if resource == "challenges":
            ChallengeFactory()
        elif resource == "submissions":
            SubmissionFactory(advocate=advocate)
        elif resource == "rewards":
            RewardFactory()
        elif resource == "redemptions":
            redeem(advocate, RewardFactory())
        elif resource == "referrals":
            ReferralFactory(advocate=advocate)
        elif resource == "reference-requests":
            ReferenceRequestFactory()
        elif resource == "ledger":
            give_points(advocate, 10)
        elif resource == "companies":
            CompanyFactory()
