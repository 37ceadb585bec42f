"""Referral chains: a won referral's customer invited in one click, the chain shown, and
the second-generation reward paid once to the first advocate and reversed like the won
reward."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from advocates.links import invitation_token
from advocates.models import Invitation
from advocates.services import invitation_accept
from referrals.models import ReferralReward, Stage
from referrals.selectors import chain_for_advocate
from referrals.services import ReferralError, referral_advance
from referrals.services.chains import referral_invite_referred
from tests.factories import AdvocateFactory
from tests.referrals.factories import ReferralFactory, RewardRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(owned_advocate):
    return ReferralFactory(
        advocate=owned_advocate,
        referred_name="Nora Newman",
        referred_email="nora@newco.example",
        referred_company="NewCo",
        stage=Stage.WON,
        won_at=timezone.now() - timedelta(days=3),
        created_at=timezone.now() - timedelta(days=20),
    )


def _join(referral):
    referral.refresh_from_db()
    invitation = Invitation.objects.get(pk=referral.invitation_id)
    return invitation_accept(token=invitation_token(invitation), password="a-long-pass-phrase-9")


def _balance(advocate) -> int:
    advocate.refresh_from_db()
    assert advocate.balance == sum(e.amount for e in advocate.ledger_entries.all())
    return advocate.balance


def test_invite_a_won_referral_and_the_chain_is_remembered(won, rep, owned_advocate):
    referral_invite_referred(referral_id=won.pk, actor=rep)
    won.refresh_from_db()
    invitation = won.invitation
    assert (invitation.email, invitation.first_name, invitation.last_name) == (
        "nora@newco.example",
        "Nora",
        "Newman",
    )
    assert invitation.company_name == "NewCo"

    nora = _join(won)
    chain = chain_for_advocate(nora)
    assert chain.brought_in_by == won
    assert chain.brought_in == []
    assert chain_for_advocate(owned_advocate).brought_in == [nora]


def test_only_a_won_referral_can_be_invited_once(won, rep, owned_advocate):
    open_referral = ReferralFactory(advocate=owned_advocate, stage=Stage.OPPORTUNITY)
    with pytest.raises(ReferralError, match="Only a won referral"):
        referral_invite_referred(referral_id=open_referral.pk, actor=rep)
    referral_invite_referred(referral_id=won.pk, actor=rep)
    with pytest.raises(ReferralError, match="invited from this referral already"):
        referral_invite_referred(referral_id=won.pk, actor=rep)
    assert Invitation.objects.count() == 1
    assert open_referral.invitation_id is None


def test_a_member_already_is_refused_and_nothing_is_linked(won, rep):
    AdvocateFactory(user__email="nora@newco.example")
    with pytest.raises(ReferralError, match="already a member"):
        referral_invite_referred(referral_id=won.pk, actor=rep)
    won.refresh_from_db()
    assert won.invitation_id is None
    assert not Invitation.objects.exists()


def test_second_generation_reward_is_paid_once_and_reversed(
    won, rep, owned_advocate, assert_ledger_consistent
):
    RewardRuleFactory(fixed_points=500, second_generation_points=200)
    referral_invite_referred(referral_id=won.pk, actor=rep)
    nora = _join(won)
    before = _balance(owned_advocate)
    second = ReferralFactory(advocate=nora, created_at=timezone.now() - timedelta(days=2))

    referral_advance(referral_id=second.pk, stage=Stage.WON)
    referral_advance(referral_id=second.pk, stage=Stage.WON)  # a repeat changes nothing
    assert _balance(owned_advocate) == before + 200
    assert _balance(nora) == 500  # her own won reward, not the second-generation one
    reward = second.rewards.get(kind=ReferralReward.Kind.SECOND_GENERATION)
    assert reward.ledger_entry.advocate_id == owned_advocate.pk
    assert "whom you brought in" in reward.ledger_entry.reason

    referral_advance(referral_id=second.pk, stage=Stage.LOST)
    reward.refresh_from_db()
    assert reward.status == ReferralReward.Status.REVERSED
    assert _balance(owned_advocate) == before
    assert _balance(nora) == 0

    referral_advance(referral_id=second.pk, stage=Stage.WON)  # won again: a second round
    assert _balance(owned_advocate) == before + 200
    assert list(
        second.rewards.filter(kind=ReferralReward.Kind.SECOND_GENERATION).values_list(
            "round", "status"
        )
    ) == [(1, "reversed"), (2, "paid")]
    assert_ledger_consistent()


def test_one_generation_only_and_off_by_default(won, rep, owned_advocate):
    rule = RewardRuleFactory(fixed_points=0)
    referral_invite_referred(referral_id=won.pk, actor=rep)
    nora = _join(won)
    hers = ReferralFactory(
        advocate=nora,
        referred_name="Gus Grand",
        referred_email="gus@grand.example",
        stage=Stage.WON,
        won_at=timezone.now() - timedelta(days=1),
    )
    referral_invite_referred(referral_id=hers.pk, actor=rep)
    gus = _join(hers)
    third = ReferralFactory(advocate=gus, created_at=timezone.now() - timedelta(hours=5))

    referral_advance(referral_id=third.pk, stage=Stage.WON)  # second_generation_points 0
    assert not ReferralReward.objects.exists()

    rule.second_generation_points = 50
    rule.save()
    referral_advance(referral_id=third.pk, stage=Stage.LOST)
    referral_advance(referral_id=third.pk, stage=Stage.WON)
    assert _balance(nora) == 50  # she brought Gus in
    assert _balance(owned_advocate) == 0  # the generation before earns nothing


def test_rep_invites_from_the_referral_page(won, rep, rep_client, owned_advocate):
    url = reverse("referrals:rep_detail", kwargs={"pk": won.pk})
    page = rep_client.get(url).content.decode()
    assert "Invite Nora Newman as an advocate" in page

    response = rep_client.post(reverse("referrals:invite_referred", kwargs={"pk": won.pk}))
    assert response.status_code == 302
    page = rep_client.get(url).content.decode()
    assert "Invited as an advocate on" in page
    assert "is invited to join" in page

    nora = _join(won)
    page = rep_client.get(url).content.decode()
    assert "joined as an advocate, brought in by" in page
    detail = rep_client.get(reverse("advocates:detail", kwargs={"pk": nora.pk})).content.decode()
    assert "Brought in by" in detail
    assert owned_advocate.name in detail
    detail = rep_client.get(
        reverse("advocates:detail", kwargs={"pk": owned_advocate.pk})
    ).content.decode()
    assert "Brought in</dt>" in detail
    assert nora.name in detail


def test_inviting_an_open_referral_shows_why(rep_client, owned_advocate):
    referral = ReferralFactory(advocate=owned_advocate, stage=Stage.QUALIFIED)
    response = rep_client.post(
        reverse("referrals:invite_referred", kwargs={"pk": referral.pk}), follow=True
    )
    assert "Only a won referral" in response.content.decode()
    assert not Invitation.objects.exists()
