"""Demo content for the campaign kinds (idempotent): a reference drive with three CRM
prospects paired with advocates, and the trigger campaign "Thanks, promoter" listening
for NPS answers of 9–10."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from advocates.models import User
from campaigns.models import Campaign
from campaigns.services import kinds as kinds_services
from campaigns.services import triggers as trigger_services
from campaigns.services.campaigns import SEND_BATCH_TASK
from campaigns.triggers import trigger_candidates
from console.prospect_events import prospect_events_import
from core.outbox import enqueue_after_commit

DRIVE_NAME = "Reference drive: Q4 pipeline"
PROMOTER_NAME = "Thanks, promoter"
# How far back the demo's NPS answers of 9–10 fire "Thanks, promoter".
PROMOTER_LOOKBACK = timedelta(days=365)
PROSPECTS_CSV = """name,email,company,industry,title,product
Priya Patel,priya@northwind-health.example,Northwind Health,Healthcare,VP Operations,Analytics
Marco Rossi,marco@contoso-bank.example,Contoso Bank,Financial services,Head of IT,Automation
Lena Berg,lena@fabrikam.example,Fabrikam,Software,Engineering manager,Integrations
"""
DRIVE_BODY = """Hi {{ first_name }},

Meet each other: {{ prospect_name }} ({{ prospect_company }}) is weighing the same \
choice {{ advocate_name }} ({{ advocate_title }}, {{ advocate_company }}) made last year.

Why we think you two should talk: {{ match_reasons }}.

Reply to this email to set up a 20-minute call. Thank you!
"""
PROMOTER_BODY = """Hi {{ first_name }},

Thank you for the great score! If a colleague elsewhere could use us too, here is your \
personal link to share: {{ referral_link }}

You earn points when they join.
"""
PROMOTER_SUGGESTED = """Hi,

We use {{ program_name }} and it has made a real difference for our team. \
Worth a look: {{ referral_link }}

{{ first_name }}
"""


def _fire_for_demo_promoters(promoter: Campaign) -> None:
    """Fire the trigger for the promoters the demo already has, and send to them.

    Listening alone leaves it "sending" to nobody; the demo's NPS answers predate its
    start, so evaluating the trigger would never reach them.
    """
    now = timezone.now()
    advocate_ids = list(trigger_candidates(promoter, since=now - PROMOTER_LOOKBACK, until=now))
    if trigger_services.trigger_fire(campaign=promoter, advocate_ids=advocate_ids, now=now):
        enqueue_after_commit(SEND_BATCH_TASK, promoter.pk)


@transaction.atomic
def load(stdout: TextIO) -> None:
    manager = User.objects.filter(email="manager@demo.vouch").first()
    if manager is None:
        return
    drive, _ = Campaign.objects.get_or_create(
        name=DRIVE_NAME,
        defaults={
            "kind": Campaign.Kind.REFERENCE_DRIVE,
            "subject": "An introduction: {{ prospect_name }} and {{ advocate_name }}",
            "body": DRIVE_BODY,
            "created_by": manager,
        },
    )
    if drive.status == Campaign.Status.DRAFT:
        if not drive.prospects.exists():
            kinds_services.campaign_prospects_import(
                campaign=drive,
                file=SimpleUploadedFile("prospects.csv", PROSPECTS_CSV.encode()),
            )
        if not drive.prospects.filter(advocate__isnull=False).exists():
            kinds_services.campaign_prospects_pair(campaign=drive, max_per_advocate=2)

    promoter, _ = Campaign.objects.get_or_create(
        name=PROMOTER_NAME,
        defaults={
            "kind": Campaign.Kind.REFERRAL_DRIVE,
            "subject": "Thank you, {{ first_name }}",
            "body": PROMOTER_BODY,
            "suggested_message": PROMOTER_SUGGESTED,
            "created_by": manager,
        },
    )
    if not promoter.trigger:
        kinds_services.campaign_trigger_set(
            campaign=promoter, trigger=Campaign.Trigger.NPS_PROMOTER
        )
    if promoter.status == Campaign.Status.DRAFT:
        promoter = kinds_services.campaign_trigger_start(campaign_id=promoter.pk)
    if promoter.status == Campaign.Status.SENDING and not promoter.messages.exists():
        _fire_for_demo_promoters(promoter)
    # Percy's open request (references demo) is at northwind.example: its rep hears of it.
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    prospect_events_import(
        file=SimpleUploadedFile(
            "events.csv",
            f"domain,event_type,date\nnorthwind.example,funding_round,{day}\n".encode(),
        ),
        imported_by=manager,
    )
    paired = drive.prospects.filter(advocate__isnull=False).count()
    stdout.write(f"Campaign kinds: “{DRIVE_NAME}” ({paired} prospects paired), “{PROMOTER_NAME}”.")
