"""Mixed-role load for tests/integration/test_load.py (locust, headless).

The test writes the signed-in sessions and ids it prepared to the JSON file named by
VOUCH_LOAD_PLAN; each simulated user takes the next session of its role:

- advocates browse the hub, challenges, rewards and the leaderboard, and redeem (a
  refused redemption, out of stock or short of points, is a normal answer, not an error);
- reps open their reference requests and referral pipeline;
- managers open the console, the review queue, fulfilment and reward pages;
- anonymous visitors open a referral landing page and the sign-in page.

A response is an error when its status is 400 or more, or a signed-in page sends the
user to the sign-in page (a lost session would otherwise look like a 200).

VOUCH_LOAD_REQUESTS (optional) ends the run once that many requests were answered (the
users finish the task in hand); VOUCH_LOAD_THINK="MIN,MAX" sets each user's pause
between tasks in seconds (default 0.5,2.0, a person's pace); VOUCH_LOAD_RESULT names a
JSON file for the final counts and errors (locust's CSV files are written every second
or so, and may miss the last requests).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

with open(os.environ["VOUCH_LOAD_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
REQUESTS = int(os.environ.get("VOUCH_LOAD_REQUESTS", "0"))
THINK = between(*(float(s) for s in os.environ.get("VOUCH_LOAD_THINK", "0.5,2.0").split(",")))
_next = {role: itertools.cycle(PLAN[role]) for role in ("advocates", "reps", "managers")}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')


class SignedIn(HttpUser):
    abstract = True
    role = ""
    wait_time = THINK

    def on_start(self) -> None:
        self.client.cookies.set(PLAN["session_cookie_name"], next(_next[self.role]))

    def page(self, path: str, *, name: str | None = None) -> None:
        with self.client.get(path, name=name or path, catch_response=True) as response:
            if response.status_code >= 400:
                response.failure(f"HTTP {response.status_code}")
            elif "/accounts/login/" in response.url:
                response.failure("sent to the sign-in page")


class Advocate(SignedIn):
    role = "advocates"
    weight = 6

    @task(4)
    def hub(self) -> None:
        self.page("/hub/")

    @task(2)
    def challenges(self) -> None:
        self.page("/challenges/")

    @task(2)
    def rewards(self) -> None:
        self.page("/rewards/")

    @task(1)
    def leaderboard(self) -> None:
        self.page("/leaderboard/")

    @task(2)
    def redeem(self) -> None:
        path = f"/rewards/{random.choice(PLAN['reward_ids'])}/redeem/"
        form = self.client.get(path, name="/rewards/[id]/redeem/ (form)")
        csrf, token = CSRF.search(form.text), TOKEN.search(form.text)
        if form.status_code != 200 or not csrf or not token:
            return  # counted by locust as the GET's own outcome
        with self.client.post(
            path,
            data={"csrfmiddlewaretoken": csrf.group(1), "token": token.group(1)},
            headers={"Referer": self.host + path},
            name="/rewards/[id]/redeem/ (post)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # 302: redeemed; 200: the form again; 409: refused, the form again saying why
            # (the stock or the points went between the form and the post).
            if response.status_code in (200, 302, 409):
                response.success()  # a 409 would count as a failure otherwise
            else:
                response.failure(f"HTTP {response.status_code}")


class Rep(SignedIn):
    role = "reps"
    weight = 2

    @task
    def requests(self) -> None:
        self.page("/references/requests/")

    @task
    def pipeline(self) -> None:
        self.page("/referrals/pipeline/")


class Manager(SignedIn):
    role = "managers"
    weight = 1

    @task(2)
    def console(self) -> None:
        self.page("/console/")

    @task
    def review(self) -> None:
        self.page("/console/review/")

    @task
    def fulfilment(self) -> None:
        self.page("/console/fulfilment/")

    @task
    def rewards(self) -> None:
        self.page("/console/rewards/")


class Visitor(HttpUser):
    weight = 2
    wait_time = THINK

    @task(3)
    def landing(self) -> None:
        code = random.choice(PLAN["landing_codes"])
        with self.client.get(f"/r/{code}/", name="/r/[code]/", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task
    def sign_in_page(self) -> None:
        with self.client.get("/accounts/login/", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


_answered = 0


@events.init.add_listener
def _stop_after_enough_requests(environment: Environment, **_: object) -> None:
    if not REQUESTS:
        return

    @environment.events.request.add_listener
    def count(**_: object) -> None:
        global _answered
        _answered += 1
        if _answered == REQUESTS and environment.runner is not None:
            # From a greenlet of its own: quitting stops the user making this request.
            gevent.spawn(environment.runner.quit)


@events.quitting.add_listener
def _write_result(environment: Environment, **_: object) -> None:
    path = os.environ.get("VOUCH_LOAD_RESULT")
    if not path:
        return
    total = environment.stats.total
    errors = [
        f"{error['occurrences']} x {error['method']} {error['name']}: {error['error']}"
        for error in environment.stats.serialize_errors().values()
    ]
    with open(path, "w") as result_file:
        json.dump(
            {"requests": total.num_requests, "failures": total.num_failures, "errors": errors},
            result_file,
        )
