"""Composing campaigns in the console: placeholders, escaping, preview, list and page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import placeholders
from campaigns.models import Campaign, CampaignMessage, Segment, Suppression
from campaigns.services import campaigns as campaign_services
from core.models import ProgramSettings
from tests import factories
from tests.campaigns.test_sending import make_campaign, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment() -> Segment:
    return Segment.objects.create(name="Everyone", filters={})


def _form(the_segment: Segment, **overrides) -> dict:
    return {
        "name": "Refer a friend",
        "kind": Campaign.Kind.REFERRAL_DRIVE,
        "segment": the_segment.pk,
        "subject": "{{ first_name }}, know someone?",
        "body": "Hi {{ first_name }},\n\nShare {{ referral_link }}.",
        "suggested_message": "Have a look at {{ referral_link }}",
        "send": "draft",
        "scheduled_at": "",
    } | overrides


# --- The placeholder language ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Hi {{ frist_name }}", "Unknown placeholder {{ frist_name }}"),
        ("Hi {{ first_name.upper }}", "is not a placeholder"),
        ("Hi {{ first_name }", "is not closed or opened"),
        ("Hi {% if x %}", "is not closed or opened"),
        ("Hi {{ invitation_link }}", "Unknown placeholder"),  # not a referral drive's
    ],
)
def test_placeholder_errors(text: str, problem: str) -> None:
    errors = placeholders.placeholder_errors(text, kind=Campaign.Kind.REFERRAL_DRIVE)
    assert any(problem in error for error in errors), errors


def test_known_placeholders_pass_and_kinds_add_their_own() -> None:
    text = "{{first_name}} {{ last_name }} {{ program_name }} {{ unsubscribe_link }}"
    assert placeholders.placeholder_errors(text, kind=Campaign.Kind.REFERRAL_DRIVE) == []
    assert (
        placeholders.placeholder_errors("{{ invitation_link }}", kind=Campaign.Kind.INVITATION)
        == []
    )


def test_an_unknown_placeholder_is_a_form_error_and_nothing_is_saved(
    manager_client, segment
) -> None:
    response = manager_client.post(
        reverse("campaigns:campaign_new"), _form(segment, body="Hi {{ frist_name }}")
    )
    assert response.status_code == 200
    assert "Unknown placeholder {{ frist_name }}" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_malformed_subject_is_a_form_error(manager_client, segment) -> None:
    response = manager_client.post(
        reverse("campaigns:campaign_new"), _form(segment, subject="Hi {{ first_name")
    )
    assert "is not closed or opened" in response.content.decode()
    assert not Campaign.objects.exists()


def test_user_content_is_escaped_in_the_html_email_and_plain_in_the_text(manager) -> None:
    factories.AdvocateFactory(
        user__email="x@example.com", user__first_name='<script>alert("x")</script>'
    )
    campaign = make_campaign(
        subject="Hi {{ first_name }}",
        body="Hello {{ first_name }} & <b>friends</b>\n\n<img src=x onerror=alert(1)>",
    )
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    [email] = mail.outbox
    html = email.alternatives[0][0]
    assert "<script>" not in html
    assert "<b>friends" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&amp; &lt;b&gt;friends&lt;/b&gt;" in html
    assert html.count("<p>") >= 2  # a blank line starts a paragraph
    assert '<script>alert("x")</script>' in email.body  # plain text is plain
    assert email.subject == 'Hi <script>alert("x")</script>'


def test_links_become_clickable_and_paragraphs_come_from_blank_lines() -> None:
    html = placeholders.text_to_html("See https://example.org/a?b=1&c=2.\nNext\n\nTwo")
    assert html == (
        '<p>See <a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2'
        "</a>.<br>\nNext</p>\n<p>Two</p>"
    )


def test_a_value_cannot_inject_a_placeholder() -> None:
    rendered = placeholders.render_text("{{ first_name }}", {"first_name": "{{ last_name }}"})
    assert rendered == "{{ last_name }}"


# --- Saving and sending from the form ----------------------------------------------------


def test_save_as_draft_then_send_now(manager_client, manager, segment) -> None:
    factories.AdvocateFactory.create_batch(3)
    response = manager_client.post(reverse("campaigns:campaign_new"), _form(segment))
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:campaign_detail", args=[campaign.pk])
    assert (campaign.status, campaign.created_by) == (Campaign.Status.DRAFT, manager)

    edit = reverse("campaigns:campaign_edit", args=[campaign.pk])
    response = manager_client.post(edit, _form(segment, name="Renamed", send="now"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Renamed", Campaign.Status.SENDING)
    assert CampaignMessage.objects.filter(campaign=campaign).count() == 3
    # Started: no more editing.
    response = manager_client.get(edit)
    assert response.status_code == 302


def test_an_edit_saved_after_the_campaign_started_changes_nothing(
    manager_client, manager, segment, monkeypatch
) -> None:
    factories.AdvocateFactory.create_batch(2)
    campaign = make_campaign(segment=segment, name="Original")
    stale = Campaign.objects.get(pk=campaign.pk)  # what the edit page loaded: a draft
    # The scheduler, meanwhile:
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    monkeypatch.setattr(
        "campaigns.views.campaigns.get_object_or_404", lambda *args, **kwargs: stale
    )

    edit = reverse("campaigns:campaign_edit", args=[campaign.pk])
    response = manager_client.post(edit, _form(segment, name="Renamed"), follow=True)

    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Original", Campaign.Status.SENDING)
    assert campaign.started_at is not None
    assert "started meanwhile" in response.content.decode()


def test_schedule_needs_a_future_time(manager_client, segment) -> None:
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = manager_client.post(
        reverse("campaigns:campaign_new"), _form(segment, send="schedule", scheduled_at=past)
    )
    assert "Pick a time in the future" in response.content.decode()
    assert not Campaign.objects.exists()
    future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    manager_client.post(
        reverse("campaigns:campaign_new"), _form(segment, send="schedule", scheduled_at=future)
    )
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at > timezone.now()


def test_sending_now_needs_a_segment(manager_client, segment) -> None:
    response = manager_client.post(
        reverse("campaigns:campaign_new"), _form(segment, segment="", send="now")
    )
    assert "Choose who gets this campaign" in response.content.decode()
    assert not Campaign.objects.exists()


def test_preview_renders_for_the_chosen_recipient_as_a_fragment(
    manager_client, htmx_headers, segment
) -> None:
    factories.AdvocateFactory(user__email="zed@example.com", user__first_name="Zed")
    factories.AdvocateFactory(user__email="amy@example.com", user__first_name="Amy<b>")
    campaign = make_campaign(segment=segment)
    url = reverse("campaigns:campaign_preview", args=[campaign.pk])

    fragment = manager_client.get(url, {"to": "amy@example.com"}, **htmx_headers)
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in html
    assert 'id="preview"' in html
    assert "Hi Amy&amp;lt;b&amp;gt;" in html or "Hi Amy&lt;b&gt;" in html
    assert "Amy<b>" not in html
    page = manager_client.get(url, {"to": "zed@example.com"})
    assert "<html" in page.content.decode()
    assert "Hi Zed" in page.content.decode()
    assert not CampaignMessage.objects.exists()  # previewing sends and stores nothing


# --- Live progress -----------------------------------------------------------------------


def test_progress_partial_polls_while_sending_and_stops_when_done(
    manager_client, manager, htmx_headers, segment
) -> None:
    factories.AdvocateFactory.create_batch(2)
    campaign = make_campaign(segment=segment)
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])

    polling = manager_client.get(url, **htmx_headers).content.decode()
    assert 'hx-trigger="every 2s"' in polling
    assert "<html" not in polling
    assert 'value="0"' in polling
    assert "0 of 2 handled" in polling

    run(campaign)
    done = manager_client.get(url, **htmx_headers).content.decode()
    assert "hx-trigger" not in done
    assert 'value="2"' in done
    assert "(100%)" in done


def test_a_campaign_all_skipped_by_the_weekly_cap_says_so_and_does_not_claim_success(
    manager_client, manager, htmx_headers, segment
) -> None:
    settings_row = ProgramSettings.load()
    settings_row.fatigue_cap_per_week = 1
    settings_row.save()
    capped = factories.AdvocateFactory.create_batch(3)
    earlier = make_campaign(segment=segment, name="Earlier")
    for advocate in capped:
        CampaignMessage.objects.create(
            campaign=earlier,
            advocate=advocate,
            email=advocate.user.email,
            status=CampaignMessage.Status.SENT,
            sent_at=timezone.now() - timedelta(days=1),
        )
    campaign = make_campaign(segment=segment)
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])

    done = manager_client.get(url, **htmx_headers).content.decode()

    assert "Finished: 0 sent, 3 skipped by the weekly cap" in done
    assert ">Sent</span>" not in done


def test_a_finished_campaign_lists_what_was_sent_and_why_the_rest_was_not(
    manager_client, manager, htmx_headers, segment
) -> None:
    _kept, unsubscribed = factories.AdvocateFactory.create_batch(2)
    Suppression.objects.create(email=unsubscribed.user.email.lower())
    campaign = make_campaign(segment=segment)
    campaign_services.campaign_start(campaign=campaign, actor=manager)
    run(campaign)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])

    done = manager_client.get(url, **htmx_headers).content.decode()

    assert "Finished: 1 sent, 1 skipped as unsubscribed" in done
    assert ">Sent</span>" in done


def _progress_section(page: str) -> str:
    start = page.index('id="progress"')
    return page[start : page.index("</section>", start)]


def test_sending_to_n_recipients_shows_only_while_sending(
    manager_client, manager, htmx_headers, segment
) -> None:
    factories.AdvocateFactory.create_batch(2)
    response = manager_client.post(
        reverse("campaigns:campaign_new"), _form(segment, send="now"), follow=True
    )
    campaign = Campaign.objects.get()
    # Part of the polled progress section, not a flash above it that outlives the sending.
    assert "Sending to 2 recipients." in _progress_section(response.content.decode())
    assert not [m.message for m in response.context["messages"]]
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])
    assert "Sending to 2 recipients." in manager_client.get(url, **htmx_headers).content.decode()

    run(campaign)

    # The page as it stands after the last poll: the whole page, then the swapped partial.
    assert "Sending to" not in manager_client.get(url).content.decode()
    assert "Sending to" not in manager_client.get(url, **htmx_headers).content.decode()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_campaign_list_queries_do_not_grow(manager_client, manager, segment) -> None:
    factories.AdvocateFactory.create_batch(2)
    url = reverse("campaigns:campaign_list")
    for n in range(2):
        campaign = make_campaign(name=f"c{n}", segment=segment)
        campaign_services.campaign_start(campaign=campaign, actor=manager)
    few = _queries(manager_client, url)
    for n in range(2, 8):
        campaign = make_campaign(name=f"c{n}", segment=segment)
        campaign_services.campaign_start(campaign=campaign, actor=manager)
        run(campaign)
    assert _queries(manager_client, url) == few
    page = manager_client.get(url).content.decode()
    assert "c7" in page
    assert "c0" in page


def test_campaign_page_queries_do_not_grow(manager_client, manager, segment) -> None:
    factories.AdvocateFactory.create_batch(2)
    small = make_campaign(segment=segment)
    campaign_services.campaign_start(campaign=small, actor=manager)
    run(small)
    factories.AdvocateFactory.create_batch(10)
    big = make_campaign(name="Big", segment=segment)
    campaign_services.campaign_start(campaign=big, actor=manager)
    run(big)
    small_url = reverse("campaigns:campaign_detail", args=[small.pk])
    big_url = reverse("campaigns:campaign_detail", args=[big.pk])
    assert _queries(manager_client, small_url) == _queries(manager_client, big_url)
    page = manager_client.get(big_url).content.decode()
    assert "12 of 12 handled" in page


def test_a_broken_segment_filter_is_a_message_not_an_error(manager_client, manager) -> None:
    broken = Segment.objects.create(name="Broken", filters={"nps": "not-a-list", "ams_min": "x"})
    campaign = make_campaign(segment=broken)
    page = manager_client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    assert page.status_code == 200
    assert "The segment&#x27;s filter is not valid" in page.content.decode()
    with pytest.raises(campaign_services.CampaignStateError, match="filter is not valid"):
        campaign_services.campaign_start(campaign=campaign, actor=manager)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
