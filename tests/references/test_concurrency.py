"""The burnout guard under concurrency (PostgreSQL row locks)."""

from __future__ import annotations

from references import services
from references.matching import guard
from references.models import Ask
from tests.concurrency import POSTGRES_RACE, run_each_at_once
from tests.factories import AdvocateFactory, RepFactory
from tests.references.factories import AskFactory, ReferenceRequestFactory

pytestmark = POSTGRES_RACE


def test_two_reps_asking_the_same_advocate_at_once_cannot_pass_the_cap() -> None:
    advocate = AdvocateFactory(reference_opt_in=True, reference_max_calls_per_90d=2)
    # One call already agreed: exactly one more fits under the cap.
    AskFactory(advocate=advocate, status=Ask.Status.ACCEPTED)
    requests = [ReferenceRequestFactory(rep=RepFactory()) for _ in range(2)]
    results = run_each_at_once(
        [
            lambda r=r: services.request_ask_directly(request=r, advocate_id=advocate.pk)
            for r in requests
        ]
    )
    asks = [r for r in results if isinstance(r, Ask)]
    refused = [r for r in results if isinstance(r, services.ReferenceError)]
    assert len(asks) == 1, results
    assert len(refused) == 1, results
    assert guard.advocate_load(advocate.pk) == 2


def test_prospects_choosing_the_same_advocate_at_once_get_one_ask() -> None:
    advocate = AdvocateFactory(reference_opt_in=True, reference_max_calls_per_90d=1)
    requests = []
    for _ in range(3):
        request = ReferenceRequestFactory(rep=RepFactory(), status="with_prospect", link_nonce="n")
        request.candidates.create(advocate=advocate, rank=1, score=1)
        requests.append(request)
    results = run_each_at_once(
        [
            lambda r=r: services.prospect_choose(request=r, candidate_id=r.candidates.get().pk)
            for r in requests
        ]
    )
    assert sum(isinstance(r, Ask) for r in results) == 1, results
    assert all(isinstance(r, (Ask, services.ReferenceError)) for r in results), results
    assert guard.advocate_load(advocate.pk) == 1
    assert Ask.objects.filter(advocate=advocate).count() == 1
