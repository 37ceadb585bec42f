"""The burnout guard under concurrency (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from references import matching, services
from references.models import Ask
from tests.factories import AdvocateFactory, RepFactory
from tests.references.factories import AskFactory, ReferenceRequestFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")


def _race(calls) -> list[object]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_reps_asking_the_same_advocate_at_once_cannot_pass_the_cap() -> None:
    advocate = AdvocateFactory(reference_opt_in=True, reference_max_calls_per_90d=2)
    # One call already agreed: exactly one more fits under the cap.
    AskFactory(advocate=advocate, status=Ask.Status.ACCEPTED)
    requests = [ReferenceRequestFactory(rep=RepFactory()) for _ in range(2)]
    results = _race(
        [
            lambda r=r: services.request_ask_directly(request=r, advocate_id=advocate.pk)
            for r in requests
        ]
    )
    asks = [r for r in results if isinstance(r, Ask)]
    refused = [r for r in results if isinstance(r, services.ReferenceError)]
    assert len(asks) == 1, results
    assert len(refused) == 1, results
    assert matching.advocate_load(advocate.pk) == 2


def test_prospects_choosing_the_same_advocate_at_once_get_one_ask() -> None:
    advocate = AdvocateFactory(reference_opt_in=True, reference_max_calls_per_90d=1)
    requests = []
    for _ in range(3):
        request = ReferenceRequestFactory(rep=RepFactory(), status="with_prospect", link_nonce="n")
        request.candidates.create(advocate=advocate, rank=1, score=1)
        requests.append(request)
    results = _race(
        [
            lambda r=r: services.prospect_choose(request=r, candidate_id=r.candidates.get().pk)
            for r in requests
        ]
    )
    assert sum(isinstance(r, Ask) for r in results) == 1, results
    assert all(isinstance(r, (Ask, services.ReferenceError)) for r in results), results
    assert matching.advocate_load(advocate.pk) == 1
    assert Ask.objects.filter(advocate=advocate).count() == 1
