"""CSV exports: streamed (rows read while the response is sent), correct content,
spreadsheet formulas neutralised, date windows, bad input refused with a message."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignMessage
from rewards.models import Redemption
from tests.factories import AdvocateFactory
from tests.references.factories import ReferenceRequestFactory
from tests.referrals.factories import ReferralFactory
from tests.rewards.factories import RewardFactory, give_points, redeem

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the accents right
    return list(csv.reader(io.StringIO(body[1:])))


def _campaign(n: int) -> Campaign:
    campaign = Campaign.objects.create(
        name="Spring drive", kind=Campaign.Kind.REFERRAL_DRIVE, subject="Hi", body="Hello"
    )
    sent = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    CampaignMessage.objects.bulk_create(
        CampaignMessage(
            campaign=campaign,
            email=f"r{i:05d}@example.com",
            first_name=f"R{i}",
            status=CampaignMessage.Status.SENT if i % 2 else CampaignMessage.Status.SKIPPED,
            skip_reason="" if i % 2 else CampaignMessage.SkipReason.FATIGUE,
            sent_at=sent if i % 2 else None,
            opened_at=sent + timedelta(hours=1) if i % 4 == 1 else None,
        )
        for i in range(n)
    )
    return campaign


def test_campaign_results_stream_5000_rows(manager_client) -> None:
    campaign = _campaign(5000)
    other = Campaign.objects.create(name="Other", kind="challenge", subject="s", body="b")
    CampaignMessage.objects.create(campaign=other, email="not-this-one@example.com")
    url = reverse("console:campaign_export", args=[campaign.pk])

    with CaptureQueriesContext(connection) as before_reading:
        response = manager_client.get(url)
    assert isinstance(response, StreamingHttpResponse)
    # The view returned before reading any message: rows are read while sending.
    assert not [q for q in before_reading if "campaigns_campaignmessage" in q["sql"]]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="campaign-{campaign.pk}-results.csv"'
    )

    rows = _rows(response)

    assert rows[0][:6] == [
        "email",
        "first_name",
        "last_name",
        "advocate_id",
        "status",
        "skip_reason",
    ]
    assert len(rows) == 5001
    assert rows[1][0] == "r00000@example.com"
    assert rows[1][4:6] == ["skipped", "fatigue"]
    assert rows[2][4] == "sent"
    header = rows[0]
    assert rows[2][header.index("sent_at")] == "2026-03-01T09:30:00+00:00"
    assert rows[2][header.index("opened_at")] == "2026-03-01T10:30:00+00:00"
    assert sum(1 for row in rows[1:] if row[4] == "sent") == 2500
    assert "not-this-one@example.com" not in {row[0] for row in rows}


def test_exports_read_in_chunks_not_all_at_once(monkeypatch) -> None:
    from django.db.models.query import QuerySet

    from console import exports

    chunk_sizes = []
    real_iterator = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    campaign = _campaign(3)
    monkeypatch.setattr(QuerySet, "iterator", spy)
    rows = list(exports.campaign_results_rows(campaign))

    assert chunk_sizes == [2000]
    assert len(rows) == 3
    assert all(isinstance(row, tuple) for row in rows)  # values, never model instances


def test_formulas_are_neutralised_and_text_is_quoted(manager_client) -> None:
    advocate = AdvocateFactory(
        title='=HYPERLINK("http://evil.example","click")',
        industry="+cmd|' /C calc'!A0",
        user__first_name="@SUM(1+1)",
        user__last_name='O"Brien, Jr.\nthe second',
    )
    give_points(advocate, 50)  # the balance is a number: written as it is

    rows = _rows(manager_client.get(reverse("console:export", args=["advocates"])))

    header, row = rows[0], rows[1]
    cell = dict(zip(header, row, strict=True))
    assert cell["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert cell["industry"] == "'+cmd|' /C calc'!A0"
    assert cell["first_name"] == "'@SUM(1+1)"
    assert cell["last_name"] == 'O"Brien, Jr.\nthe second'  # quoted, not split
    assert cell["balance"] == "50"
    assert cell["status"] == "active"
    assert len(rows) == 2


def test_negative_ledger_amounts_stay_numbers(manager_client) -> None:
    advocate = AdvocateFactory()
    redeem(advocate, RewardFactory(points_cost=30))

    rows = _rows(manager_client.get(reverse("console:export", args=["ledger"])))

    amounts = sorted(int(row[rows[0].index("amount")]) for row in rows[1:])
    assert amounts == [-30, 30]


def test_redemptions_export_leaves_out_gift_card_codes(manager_client) -> None:
    advocate = AdvocateFactory()
    redemption = redeem(advocate, RewardFactory(name="Gift card"))
    Redemption.objects.filter(pk=redemption.pk).update(fulfilment_note="CODE-SECRET-1234")

    response = manager_client.get(reverse("console:export", args=["redemptions"]))
    body = b"".join(response.streaming_content).decode()

    assert "Gift card" in body
    assert "CODE-SECRET-1234" not in body


def test_date_window_includes_both_whole_days(manager_client) -> None:
    for day, hour in ((9, 23), (10, 0), (15, 23), (16, 0)):
        ReferralFactory(
            referred_name=f"Jan {day} {hour}h",
            created_at=datetime(2026, 1, day, hour, 59, tzinfo=UTC),
        )

    response = manager_client.get(
        reverse("console:export", args=["referrals"]),
        {"start": "2026-01-10", "end": "2026-01-15"},
    )
    rows = _rows(response)

    names = [row[rows[0].index("referred_name")] for row in rows[1:]]
    assert names == ["Jan 10 0h", "Jan 15 23h"]
    assert response["Content-Disposition"] == (
        'attachment; filename="referrals-from-2026-01-10-to-2026-01-15.csv"'
    )


def test_only_a_start_date_exports_from_then_on(manager_client) -> None:
    now = timezone.now()
    ReferenceRequestFactory(prospect_name="Old", created_at=now - timedelta(days=40))
    ReferenceRequestFactory(prospect_name="New", created_at=now - timedelta(days=1))
    start = (now - timedelta(days=5)).date().isoformat()

    rows = _rows(
        manager_client.get(reverse("console:export", args=["reference_requests"]), {"start": start})
    )

    assert [row[rows[0].index("prospect_name")] for row in rows[1:]] == ["New"]


@pytest.mark.parametrize(
    "query",
    [{"start": "2026-02-01", "end": "2026-01-01"}, {"start": "2026-13-40"}, {"end": "soon"}],
)
def test_bad_dates_export_nothing_and_say_why(manager_client, query) -> None:
    ReferralFactory()

    response = manager_client.get(reverse("console:export", args=["referrals"]), query)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:exports") + "?")
    assert not isinstance(response, StreamingHttpResponse)
    page = manager_client.get(response["Location"])
    text = page.content.decode()
    assert "nothing was exported" in text
    assert "Download CSV" not in text.split("Program data", 1)[1].split("Campaign results")[0]


def test_unknown_export_is_404(manager_client) -> None:
    assert manager_client.get(reverse("console:export", args=["passwords"])).status_code == 404


def test_exports_page_lists_every_export_with_the_window(manager_client) -> None:
    campaign = _campaign(1)

    page = manager_client.get(
        reverse("console:exports"), {"start": "2026-01-01", "end": "2026-01-31"}
    ).content.decode()

    for key in ("advocates", "ledger", "redemptions", "referrals", "reference_requests"):
        url = reverse("console:export", args=[key])
        assert f'href="{url}?start=2026-01-01&amp;end=2026-01-31"' in page
    assert f'href="{reverse("console:campaign_export", args=[campaign.pk])}"' in page


def test_exports_page_query_count_is_constant(manager_client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(reverse("console:exports")).status_code == 200
        return len(queries)

    _campaign(1)
    count()
    small = count()
    for _ in range(10):
        _campaign(1)
    assert count() == small
