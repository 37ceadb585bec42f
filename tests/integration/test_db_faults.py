"""Database connections killed during a burst of redemptions and awards.

Advocates redeem a reward with little stock and managers approve submissions (points
awards), from several threads at once, while another thread keeps killing the app's
PostgreSQL connections (``pg_terminate_backend``). A request whose connection dies gets
a plain 500 page that shows no SQL, no driver message and no data; the next request
succeeds; and afterwards every balance equals the sum of its ledger entries and is
>= 0, no stock is negative, and no more units were redeemed than there were.

Each request runs as Django's request handler runs it: old or broken connections are
closed before it (``close_old_connections``, which the test client skips on purpose).
"""

from __future__ import annotations

import random
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field

from django.db import close_old_connections, connection, connections
from django.test import Client
from django.urls import reverse

from advocates.models import Advocate
from challenges.models import Submission
from rewards.models import LedgerEntry, Redemption
from tests import factories
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.concurrency import POSTGRES_RACE
from tests.conftest import ledger_violations
from tests.rewards.factories import RewardFactory, give_points

pytestmark = POSTGRES_RACE

ADVOCATES = 12
STOCK = 15
COST = 100
CHALLENGES = 4
# The burst ends once this many requests were answered and at least one met a killed
# connection (bounded by work, not by the clock); BURST_CAP_SECONDS only ends a burst
# that cannot get there, and the assertions below then say what is missing.
BURST_REQUESTS = 150
BURST_CAP_SECONDS = 120
# What a 500 page must never show: SQL, the driver, the error, a traceback.
LEAKS = (
    "SELECT", "INSERT", "UPDATE ", "DELETE FROM", "psycopg", "OperationalError",
    "InterfaceError", "terminating connection", "server closed", "Traceback",
    "rewards_", "advocates_", "File \"",
)  # fmt: skip


@dataclass
class Outcomes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: list[int] = field(default_factory=list)
    error_pages: list[str] = field(default_factory=list)
    exceptions: list[BaseException] = field(default_factory=list)
    enough: threading.Event = field(default_factory=threading.Event)

    def add(self, response) -> None:
        with self.lock:
            self.statuses.append(response.status_code)
            if response.status_code >= 500:
                self.error_pages.append(response.content.decode(errors="replace"))
            if len(self.statuses) >= BURST_REQUESTS and self.error_pages:
                self.enough.set()


def _request(client: Client, method: str, url: str, data: dict | None = None):
    # What Django's handler does around every request (the test client does not).
    try:
        close_old_connections()
    except Exception:  # closing a connection the server already dropped
        connection.close_if_unusable_or_obsolete()
    if method == "post":
        return client.post(url, data or {})
    return client.get(url)


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_killed_connections_leak_nothing_and_break_no_invariant(settings) -> None:
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    advocates = [factories.AdvocateFactory() for _ in range(ADVOCATES)]
    for advocate in advocates:
        give_points(advocate, 3 * COST)
    reward = RewardFactory(points_cost=COST, stock=STOCK)
    managers = [factories.ManagerFactory(), factories.ManagerFactory()]
    submissions = [
        SubmissionFactory(challenge=challenge, advocate=advocate)
        for challenge in ChallengeFactory.create_batch(CHALLENGES, points=50)
        for advocate in advocates
    ]
    outcomes = Outcomes()
    stop = threading.Event()
    terminated = [0]

    def killer() -> None:
        # A few random app connections every 0.05-0.3 s: in a query, in a transaction,
        # idle between requests, or while connecting.
        try:
            with connection.cursor() as cursor:
                while not stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM ("
                        " SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() ORDER BY random() LIMIT 2) AS victims"
                    )
                    terminated[0] += cursor.fetchone()[0]
                    time.sleep(random.uniform(0.05, 0.3))
        finally:
            connection.close()

    def redeemer(clients: list[Client]) -> None:
        try:
            url = reverse("rewards:redeem", args=[reward.pk])
            # ``again`` confirms each repeat, so every post competes for the stock.
            data = {"again": "1"}
            while not stop.is_set():
                for client in clients:
                    outcomes.add(_request(client, "post", url, data | {"token": uuid.uuid4().hex}))
        except BaseException as error:
            outcomes.exceptions.append(error)
            outcomes.enough.set()  # no point going on: the assertions report it
        finally:
            connection.close()

    def approver(client: Client, mine: list[Submission]) -> None:
        try:
            while not stop.is_set():  # a submission whose approval failed is tried again
                for submission in mine:
                    url = reverse("challenges:review_decide", args=[submission.pk])
                    outcomes.add(_request(client, "post", url, {"action": "approve"}))
        except BaseException as error:
            outcomes.exceptions.append(error)
            outcomes.enough.set()
        finally:
            connection.close()

    # Signed in before the faults start (a session is a database row too).
    advocate_clients = [_client(advocate.user) for advocate in advocates]
    manager_clients = [_client(manager) for manager in managers]
    workers = [
        threading.Thread(target=redeemer, args=(advocate_clients[i::6],)) for i in range(6)
    ] + [
        threading.Thread(target=approver, args=(client, submissions[i::2]))
        for i, client in enumerate(manager_clients)
    ]
    connection.close()  # nothing of this thread's is open for the killer to break
    killing = threading.Thread(target=killer)
    killing.start()
    for thread in workers:
        thread.start()
    outcomes.enough.wait(timeout=BURST_CAP_SECONDS)
    stop.set()
    for thread in [*workers, killing]:
        thread.join(timeout=60)
    connections.close_all()
    assert not any(thread.is_alive() for thread in [*workers, killing]), "a thread hung"
    assert outcomes.exceptions == [], "".join(
        traceback.format_exception(outcomes.exceptions[0])[-12:]
    )

    # Faults were injected, and every refused or failed request was answered.
    assert terminated[0] > 0
    assert outcomes.error_pages, "no request met a killed connection"
    # 409: a redemption refused with its reason (out of stock, not enough points).
    assert set(outcomes.statuses) <= {200, 302, 409, 500}, sorted(set(outcomes.statuses))
    for page in outcomes.error_pages:
        assert not [leak for leak in LEAKS if leak in page], page[:2000]
        assert not any(advocate.user.email in page for advocate in advocates)

    # The next request succeeds, for both kinds of user.
    assert (
        _request(_client(advocates[0].user), "get", reverse("rewards:catalog")).status_code == 200
    )
    review = _request(_client(managers[0]), "get", reverse("challenges:review"))
    assert review.status_code == 200

    # The invariants hold after all that.
    assert ledger_violations() == []
    assert not Advocate.objects.filter(balance__lt=0).exists()
    reward.refresh_from_db()
    assert reward.stock >= 0
    redeemed = Redemption.objects.filter(reward=reward).exclude(status=Redemption.Status.CANCELLED)
    assert redeemed.count() == STOCK - reward.stock
    spends = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).count()
    assert spends == redeemed.count()
    approved = Submission.objects.filter(status=Submission.Status.APPROVED).count()
    awards = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.AWARD, idempotency_key__startswith="challenge-submission:"
    ).count()
    assert awards == approved
    print(
        f"figures: {len(outcomes.statuses)} requests, {terminated[0]} connections killed, "
        f"{len(outcomes.error_pages)} 500s (none leaking), {redeemed.count()} units redeemed "
        f"of {STOCK}, {approved} awards, invariant violations: 0"
    )
