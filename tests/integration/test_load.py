"""Load: 400 requests of mixed-role traffic against gunicorn, then the ledger and stock
hold.

gunicorn (production settings: DEBUG off, real SECRET_KEY/SITE_URL/ALLOWED_HOSTS, the
Redis cache and broker) serves the committed PostgreSQL test database, filled here with
advocates holding points, a reward with little stock, challenges, reps and managers.
locust (headless, tests/integration/locustfile.py) plays 20 concurrent advocates who
browse and redeem, reps, managers and anonymous visitors, with short pauses, until 400
requests were answered (the run is bounded by its work, not by the clock). Fewer than
0.5 % of requests may fail; afterwards every balance equals its ledger, nothing is below
zero, and the limited reward was not redeemed past its stock. Throughput and latency
are measured by bench/load.py, not here.

Redis is a private redis-server (nothing consumes the emails queued meanwhile).
Needs PostgreSQL; CI runs it (a skip there is a failure).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from advocates.models import Advocate
from referrals.services import referral_link_for
from rewards.models import Redemption, Reward
from tests import factories
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.conftest import ledger_violations
from tests.integration.processes import (
    Gunicorn,
    RedisServer,
    process_env,
    require_live_stack,
    session_cookie,
)
from tests.rewards.factories import RewardFactory, give_points

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 400
USERS = 20
THINK = "0.05,0.3"  # seconds between a user's tasks: concurrency without idling
MAX_ERROR_RATE = 0.005
STOCK = 6  # fewer units than the redemptions of a run ask for
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@pytest.fixture
def web(transactional_db, tmp_path) -> Iterator[Gunicorn]:
    require_live_stack()
    redis_server = RedisServer()
    redis_server.start()
    server = Gunicorn(
        env=process_env(redis_url=redis_server.url()),
        log=tmp_path / "gunicorn.log",
        workers=2,
        threads=4,
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        redis_server.stop()
        print(server.log.read_text(errors="replace")[-3000:])


def _plan(tmp_path: Path) -> Path:
    advocates = factories.AdvocateFactory.create_batch(40)
    for advocate in advocates:
        give_points(advocate, 400)
    limited = RewardFactory(name="Conference pass", points_cost=100, stock=STOCK)
    unlimited = RewardFactory(name="Charity donation", points_cost=50)
    for challenge in ChallengeFactory.create_batch(6):
        for advocate in advocates[:5]:
            SubmissionFactory(challenge=challenge, advocate=advocate)
    reps = factories.RepFactory.create_batch(4)
    managers = factories.ManagerFactory.create_batch(2)
    plan = {
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
        "advocates": [session_cookie(a.user) for a in advocates],
        "reps": [session_cookie(rep) for rep in reps],
        "managers": [session_cookie(manager) for manager in managers],
        # The limited reward twice: most redemptions race for its few units.
        "reward_ids": [limited.pk, limited.pk, unlimited.pk],
        "landing_codes": [referral_link_for(advocate_id=a.pk).code for a in advocates[:10]],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_mixed_roles_fail_under_half_a_percent_and_break_nothing(
    web: Gunicorn, tmp_path: Path
) -> None:
    plan = _plan(tmp_path)
    result = tmp_path / "result.json"
    run = subprocess.run(
        [
            # -t only keeps a hung run from hanging the suite: the request count ends it.
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "-u", str(USERS), "-r", str(USERS), "-t", "10m", "--stop-timeout", "15",
            "--host", web.url, "--only-summary", "--loglevel", "WARNING",
        ],
        env=os.environ | {
            "VOUCH_LOAD_PLAN": str(plan),
            "VOUCH_LOAD_REQUESTS": str(REQUESTS),
            "VOUCH_LOAD_THINK": THINK,
            "VOUCH_LOAD_RESULT": str(result),
        },
        capture_output=True,
        text=True,
        timeout=660,
    )  # fmt: skip
    print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
    counts = json.loads(result.read_text())
    served, failed = counts["requests"], counts["failures"]
    report = "\n".join(counts["errors"])

    assert served >= REQUESTS, f"the run ended early: {served} of {REQUESTS} requests"
    assert failed / served < MAX_ERROR_RATE, f"{failed} of {served} failed:\n{report}"

    # The ledger and the stock, after all those redemptions.
    assert ledger_violations() == []
    assert not Advocate.objects.filter(balance__lt=0).exists()
    assert not Reward.objects.filter(stock__lt=0).exists()
    limited = Reward.objects.get(name="Conference pass")
    redeemed = Redemption.objects.filter(reward=limited).exclude(status=Redemption.Status.CANCELLED)
    assert redeemed.count() == STOCK - limited.stock
    redemptions = Redemption.objects.count()
    print(
        f"figures: {served} requests, {failed} failed, {redemptions} redemptions "
        f"({redeemed.count()} of {STOCK} limited units), invariant violations: 0"
    )
