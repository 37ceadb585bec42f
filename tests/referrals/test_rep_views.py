"""The rep's side: routed list, unassigned queue, moving stages, verbal referrals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from referrals.models import Method, Referral, Stage
from tests.factories import AdvocateFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(owned_advocate):
    return ReferralFactory(advocate=owned_advocate, referred_name="Routed To Ravi")


def test_rep_sees_only_referrals_routed_to_them(mine, rep_client, other_rep):
    ReferralFactory(owner_rep=other_rep, referred_name="Rosa's Lead")
    ReferralFactory(owner_rep=None, referred_name="Queued Lead")
    body = rep_client.get(reverse("referrals:rep_list")).content.decode()
    assert "Routed To Ravi" in body
    assert "Rosa's Lead" not in body
    assert "Queued Lead" not in body
    # A rep cannot widen the scope.
    body = rep_client.get(reverse("referrals:rep_list"), {"scope": "all"}).content.decode()
    assert "Rosa's Lead" not in body


def test_manager_sees_unassigned_queue_and_assigns(
    manager_client, rep, django_capture_on_commit_callbacks
):
    queued = ReferralFactory(owner_rep=None, referred_name="Queued Lead")
    body = manager_client.get(
        reverse("referrals:rep_list"), {"scope": "unassigned"}
    ).content.decode()
    assert "Queued Lead" in body
    assert "Unassigned queue (1)" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("referrals:assign", args=[queued.pk]), {"rep": rep.pk}
        )
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.owner_rep == rep
    assert [m.to for m in mail.outbox] == [[rep.email]]


def test_assign_to_non_rep_is_refused(manager_client, advocate):
    queued = ReferralFactory(owner_rep=None)
    manager_client.post(reverse("referrals:assign", args=[queued.pk]), {"rep": advocate.user.pk})
    queued.refresh_from_db()
    assert queued.owner_rep is None


def test_htmx_filter_returns_only_the_results_fragment(mine, rep_client, htmx_headers):
    response = rep_client.get(reverse("referrals:rep_list"), {"stage": "submitted"}, **htmx_headers)
    body = response.content.decode()
    assert 'id="results"' in body
    assert "<html" not in body
    assert "Routed To Ravi" in body


def test_rep_moves_a_stage_from_the_list(mine, rep_client, rep):
    response = rep_client.post(
        reverse("referrals:advance", args=[mine.pk]),
        {"stage": "qualified", "next": reverse("referrals:rep_list")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:rep_list")
    mine.refresh_from_db()
    assert mine.stage == Stage.QUALIFIED
    assert mine.changes.get().actor == rep


def test_next_cannot_redirect_offsite(mine, rep_client):
    response = rep_client.post(
        reverse("referrals:advance", args=[mine.pk]),
        {"stage": "qualified", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("referrals:rep_detail", args=[mine.pk])


def test_other_rep_cannot_move_it(mine, other_rep):
    from django.test import Client

    client = Client()
    client.force_login(other_rep)
    response = client.post(reverse("referrals:advance", args=[mine.pk]), {"stage": "won"})
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.stage == Stage.SUBMITTED


def test_reject_needs_reason(mine, rep_client):
    rep_client.post(reverse("referrals:advance", args=[mine.pk]), {"stage": "rejected"})
    mine.refresh_from_db()
    assert mine.stage == Stage.SUBMITTED
    rep_client.post(
        reverse("referrals:advance", args=[mine.pk]), {"stage": "rejected", "reason": "invalid"}
    )
    mine.refresh_from_db()
    assert (mine.stage, mine.rejection_reason) == (Stage.REJECTED, "invalid")


def test_detail_shows_history(mine, rep_client):
    rep_client.post(reverse("referrals:advance", args=[mine.pk]), {"stage": "opportunity"})
    body = rep_client.get(reverse("referrals:rep_detail", args=[mine.pk])).content.decode()
    assert "Submitted → <strong>Opportunity</strong>" in body


def test_verbal_referral_credits_the_advocate(owned_advocate, rep_client, rep):
    response = rep_client.post(
        reverse("referrals:verbal"),
        {
            "advocate_email": owned_advocate.user.email.upper(),
            "referred_name": "Vera Verbal",
            "referred_email": "vera@buyer.example",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.advocate, referral.method, referral.created_by) == (
        owned_advocate,
        Method.VERBAL,
        rep,
    )


def test_verbal_self_referral_and_unknown_advocate_refused(owned_advocate, rep_client):
    response = rep_client.post(
        reverse("referrals:verbal"),
        {
            "advocate_email": owned_advocate.user.email,
            "referred_name": "Same",
            "referred_email": owned_advocate.user.email,
        },
    )
    assert "cannot refer yourself" in response.content.decode()
    response = rep_client.post(
        reverse("referrals:verbal"),
        {
            "advocate_email": "ghost@example.com",
            "referred_name": "X",
            "referred_email": "x@y.example",
        },
    )
    assert "No active advocate" in response.content.decode()
    assert not Referral.objects.exists()


def test_verbal_duplicate_is_flagged(owned_advocate, rep_client):
    first = ReferralFactory(referred_email="vera@buyer.example")
    response = rep_client.post(
        reverse("referrals:verbal"),
        {
            "advocate_email": owned_advocate.user.email,
            "referred_name": "Vera",
            "referred_email": "vera@buyer.example",
        },
        follow=True,
    )
    assert f"duplicate of referral #{first.pk}" in response.content.decode()


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_rep_list_query_count_constant(role, rep, manager) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    advocates = [AdvocateFactory(owner_rep=rep) for _ in range(3)]

    def add_referrals(count: int) -> None:
        for n in range(count):
            first = ReferralFactory(
                advocate=advocates[n % 3],
                owner_rep=rep if n % 2 else None,
                created_at=timezone.now() - timedelta(hours=n),
            )
            if n % 5 == 0:  # a duplicate, shown with a link to the first
                ReferralFactory(
                    advocate=advocates[0],
                    owner_rep=rep,
                    stage=Stage.REJECTED,
                    rejection_reason="duplicate",
                    duplicate_of=first,
                )

    client = Client()
    client.force_login(rep if role == "rep" else manager)

    def queries_per_scope() -> dict[str, int]:
        counts = {}
        for scope in ("mine", "unassigned", "all"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(reverse("referrals:rep_list"), {"scope": scope})
            assert response.status_code == 200
            counts[scope] = len(captured)
        return counts

    add_referrals(2)
    few = queries_per_scope()
    add_referrals(30)
    assert queries_per_scope() == few
