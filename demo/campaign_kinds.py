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
from console.prospect_events import prospect_events_import

DRIVE_NAME = "Reference drive: Q4 pipeline"
PROMOTER_NAME = "Thanks, promoter"
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
        kinds_services.campaign_trigger_start(campaign_id=promoter.pk)
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
