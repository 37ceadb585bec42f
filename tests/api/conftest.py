from __future__ import annotations

import pytest

from rewards.models import LedgerEntry
from tests.challenges.factories import ChallengeFactory, SubmissionFactory
from tests.factories import AdvocateFactory, RepFactory
from tests.references.factories import ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, redeem


@pytest.fixture
def program(db) -> dict[str, int]:
    """One of everything the API serves: resource name (as in the URL) -> an id."""
    rep = RepFactory()
    advocate = AdvocateFactory(owner_rep=rep)
    challenge = ChallengeFactory()
    submission = SubmissionFactory(challenge=challenge, advocate=advocate)
    reward = RewardFactory()
    redemption = redeem(advocate, reward)
    referral = ReferralFactory(advocate=advocate)
    request = ReferenceRequestFactory(rep=rep)
    return {
        "advocates": advocate.pk,
        "companies": advocate.company_id,
        "challenges": challenge.pk,
        "submissions": submission.pk,
        "rewards": reward.pk,
        "redemptions": redemption.pk,
        "referrals": referral.pk,
        "reference-requests": request.pk,
        "ledger": LedgerEntry.objects.filter(advocate=advocate).latest("id").pk,
    }
