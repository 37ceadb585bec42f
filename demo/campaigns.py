"""Demo: one finished campaign with some opens and clicks, and a draft referral drive.

Found again by name, so running twice changes nothing. The finished campaign's emails
are dated 10 days ago: they do not count against this week's fatigue cap, so the demo
manager can still send the draft to everyone in its segment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate, User
from campaigns.models import Campaign, CampaignMessage, Segment

FINISHED = "Spring challenge week"
DRAFT = "Refer a peer this quarter"


def _finished(manager: User | None, stdout: TextIO) -> None:
    if Campaign.objects.filter(name=FINISHED).exists():
        stdout.write(f"Campaign “{FINISHED}”: kept.")
        return
    advocates = list(
        Advocate.objects.filter(status=Advocate.Status.ACTIVE)
        .select_related("user")
        .order_by("pk")[:12]
    )
    sent_at = timezone.now() - timedelta(days=10)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=FINISHED,
            kind=Campaign.Kind.CHALLENGE,
            status=Campaign.Status.SENT,
            subject="{{ first_name }}, a new challenge is live",
            body="Hi {{ first_name }},\n\nThis week's challenges are live: share a tip with "
            "the community and earn points.\n\nSee you in the hub!",
            created_by=manager,
            started_at=sent_at,
            finished_at=sent_at + timedelta(minutes=3),
        )
        CampaignMessage.objects.bulk_create(
            [
                CampaignMessage(
                    campaign=campaign,
                    advocate=advocate,
                    email=advocate.user.email.lower(),
                    first_name=advocate.user.first_name,
                    last_name=advocate.user.last_name,
                    status=CampaignMessage.Status.SENT,
                    claimed_at=sent_at,
                    sent_at=sent_at,
                    # Some opened, fewer clicked: what a real send looks like.
                    opened_at=sent_at + timedelta(hours=i + 1) if i % 3 != 2 else None,
                    clicked_at=sent_at + timedelta(hours=i + 2) if i % 3 == 0 else None,
                    created_at=sent_at,
                )
                for i, advocate in enumerate(advocates)
            ],
            ignore_conflicts=True,
        )
    stdout.write(f"Campaign “{FINISHED}”: created, {len(advocates)} emails sent.")


def _draft(manager: User | None, stdout: TextIO) -> None:
    segment = Segment.objects.filter(name="Promoters who have not referred").first()
    if segment is None:
        stdout.write(f"Campaign “{DRAFT}”: skipped (no “Promoters who have not referred”).")
        return
    _, created = Campaign.objects.get_or_create(
        name=DRAFT,
        defaults={
            "kind": Campaign.Kind.REFERRAL_DRIVE,
            "segment": segment,
            "subject": "{{ first_name }}, know a team that would love {{ program_name }}?",
            "body": "Hi {{ first_name }},\n\nYou told us you would recommend us: thank you! "
            "If a colleague at another company could use it too, your personal link "
            "makes the introduction in one click:\n\n{{ referral_link }}\n\n"
            "You earn points when they sign up.",
            "suggested_message": "Hi, we have been using this and it saves us hours every "
            "week. Worth a look: {{ referral_link }}",
            "created_by": manager,
        },
    )
    stdout.write(f"Campaign “{DRAFT}”: {'created' if created else 'kept'} (draft).")


def load(stdout: TextIO) -> None:
    manager = User.objects.filter(email="manager@demo.vouch").first()
    _finished(manager, stdout)
    _draft(manager, stdout)
