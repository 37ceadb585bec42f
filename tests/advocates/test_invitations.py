"""Inviting contacts (one by form, many by CSV) and the email each gets after commit."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from advocates import services
from advocates.models import Invitation
from tests import factories

INVITE = reverse("advocates:invite")
LINK = re.compile(r"https?://[^\s\"<>]+/join/[^\s\"<>/]+/")


def _invite_one(client, **fields: str):
    data = {"invite_one": "1", "email": "", "first_name": "", "last_name": ""}
    data |= {"company": "", "title": ""} | fields
    return client.post(INVITE, data)


def _upload(client, content: bytes, name: str = "people.csv"):
    return client.post(
        INVITE, {"invite_csv": "1", "file": SimpleUploadedFile(name, content, "text/csv")}
    )


def _path(url: str) -> str:
    return urlsplit(url).path


# --- Inviting one contact -------------------------------------------------------------


def test_inviting_one_contact_queues_exactly_one_email_after_commit(
    manager_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _invite_one(
            manager_client, email="Jo@Example.com", first_name="Jo", company="Globex"
        )
    assert response.status_code == 302
    # Nothing is mailed while the transaction is open: the send waits for the commit.
    assert mail.outbox == []
    for callback in callbacks:  # the send, and the console home's figures dropped
        callback()

    assert len(mail.outbox) == 1
    invitation = Invitation.objects.get()
    assert invitation.email == "jo@example.com"
    assert invitation.company_name == "Globex"
    assert invitation.delivered_send == 1
    assert invitation.sent_at is not None
    message = mail.outbox[0]
    assert message.to == ["jo@example.com"]
    assert "Maya" in message.subject


def test_invitation_email_has_text_and_html_parts_with_the_working_link(
    rep, rep_client, client, django_capture_on_commit_callbacks
) -> None:
    rep.first_name, rep.last_name = "Ravi", "O'Brien & Co"
    rep.save()
    with django_capture_on_commit_callbacks(execute=True):
        _invite_one(rep_client, email="jo@example.com", first_name="Jo")
    message = mail.outbox[0]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    text_links = LINK.findall(message.body)
    html_links = LINK.findall(html)
    assert len(text_links) == 1
    assert html_links == text_links
    assert "Hi Jo" in message.body
    # Plain-text parts are not HTML: a name with an apostrophe is not mangled into &#x27;.
    assert "Ravi O'Brien & Co" in message.subject
    assert "Ravi O'Brien & Co" in message.body
    assert "&amp;" in html  # ...while the HTML part is escaped

    page = client.get(_path(text_links[0]))
    assert page.status_code == 200
    assert "jo@example.com" in page.content.decode()


def test_the_invitation_list_shows_sent_invitations(
    manager_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _invite_one(manager_client, email="jo@example.com", first_name="Jo", last_name="Day")
    body = manager_client.get(INVITE).content.decode()
    assert "Invitation sent to jo@example.com." in body
    assert "Jo Day" in body
    assert "Sent" in body


def test_reinviting_resends_and_the_old_link_stops_working(
    manager_client, client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _invite_one(manager_client, email="jo@example.com")
    old_link = LINK.findall(mail.outbox[0].body)[0]
    assert client.get(_path(old_link)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite_one(manager_client, email="JO@example.com", title="CTO")
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert Invitation.objects.count() == 1
    invitation = Invitation.objects.get()
    assert invitation.send_count == 2
    assert invitation.delivered_send == 2
    assert invitation.title == "CTO"
    new_link = LINK.findall(mail.outbox[1].body)[0]
    assert new_link != old_link

    refused = client.get(_path(old_link))
    assert refused.status_code == 410
    assert "newer invitation" in refused.content.decode()
    assert client.get(_path(new_link)).status_code == 200
    assert "Invitation sent again" in manager_client.get(INVITE).content.decode()


def test_a_delayed_retry_of_an_old_send_mails_nothing(
    manager, django_capture_on_commit_callbacks
) -> None:
    """A superseded or already delivered send is skipped (the task is safe to run twice)."""
    from advocates.tasks import invitation_send

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(email="jo@example.com", invited_by=manager)
    assert len(mail.outbox) == 1
    assert invitation_send(invitation.pk, 1) == "skipped: superseded or delivered"
    with django_capture_on_commit_callbacks(execute=False):
        services.invitation_create(email="jo@example.com", invited_by=manager)
    assert invitation_send(invitation.pk, 1) == "skipped: superseded or delivered"
    assert len(mail.outbox) == 1


def test_inviting_an_active_member_is_a_form_error(
    manager_client, advocate, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _invite_one(manager_client, email="ADA@example.com")
    assert response.status_code == 200
    assert "ada@example.com is already a member of the community." in response.content.decode()
    assert not Invitation.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b"])
def test_inviting_a_bad_address_is_a_form_error(manager_client, email: str) -> None:
    response = _invite_one(manager_client, email=email)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_rep_sees_only_the_invitations_they_sent(rep_client, rep, other_rep, manager) -> None:
    factories.InvitationFactory(email="mine@example.com", invited_by=rep)
    factories.InvitationFactory(email="theirs@example.com", invited_by=other_rep)
    body = rep_client.get(INVITE).content.decode()
    assert "mine@example.com" in body
    assert "theirs@example.com" not in body


def test_the_invitation_list_query_count_does_not_grow(
    manager_client, manager, django_assert_max_num_queries
) -> None:
    factories.InvitationFactory.create_batch(45, invited_by=manager)
    with django_assert_max_num_queries(10):
        response = manager_client.get(INVITE)
    assert "Page 1 of 3" in response.content.decode()


# --- Inviting many from a CSV ---------------------------------------------------------


def test_csv_invites_the_good_rows_and_lists_each_bad_row(
    rep_client, advocate, django_capture_on_commit_callbacks
) -> None:
    content = (
        "email,first_name,last_name,company,title\n"
        "jo@example.com,Jo,Day,Globex,CTO\n"
        "not-an-email,Bad,Row,,\n"
        "\n"
        "JO@example.com,Jo,Again,,\n"
        "ada@example.com,Ada,Member,,\n"
        ",No,Email,,\n"
        f"long@example.com,{'x' * 151},,,\n"
        "kim@example.com,Kim,Lo,Initech,VP\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(rep_client, content)
    assert response.status_code == 200
    body = response.content.decode()
    assert "5 rows not invited" in body
    assert "Line 3: “not-an-email” is not a valid email address." in body
    # Line numbers are the file's own, blank lines included.
    assert "Line 5: jo@example.com appears more than once in the file." in body
    assert "Line 6: ada@example.com is already a member of the community." in body
    assert "Line 7: “(empty)” is not a valid email address." in body
    assert "Line 8: first_name" in body
    assert "2 invitations sent." in body

    invited = Invitation.objects.order_by("email")
    assert [i.email for i in invited] == ["jo@example.com", "kim@example.com"]
    assert invited[0].company_name == "Globex"
    assert invited[1].title == "VP"
    assert sorted(m.to[0] for m in mail.outbox) == ["jo@example.com", "kim@example.com"]


def test_csv_header_is_matched_loosely(manager_client, django_capture_on_commit_callbacks) -> None:
    content = "\ufeffEmail , First_Name,last_name,Company,TITLE\r\njo@example.com,Jo,,,\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(manager_client, content.encode())
    assert response.status_code == 302
    assert Invitation.objects.get().first_name == "Jo"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email,first_name\njo@example.com,Jo\n", "Missing column(s): last_name, company, title"),
        (
            "email,first_name,last_name,company,title\njo@example.com,Jos\u00e9,,,\n".encode(
                "latin-1"
            ),
            "The file is not UTF-8 text",
        ),
        (b"", "The submitted file is empty."),
        (b"email,first_name,last_name,company,title\n", "The file has no rows to invite."),
        (b"email,first_name,last_name,company,title\njo@example.com,J\x00o,,,\n", "not a CSV"),
    ],
    ids=["missing-columns", "not-utf8", "empty", "header-only", "nul-byte"],
)
def test_a_csv_that_cannot_be_read_is_explained_and_creates_nothing(
    manager_client, content: bytes, message: str, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(manager_client, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_csv_over_the_size_cap_is_refused_and_creates_nothing(manager_client, settings) -> None:
    settings.CSV_UPLOAD_MAX_BYTES = 1024 * 1024
    header = b"email,first_name,last_name,company,title\n"
    row = b"someone@example.com,,,,\n"
    content = header + row * (1024 * 1024 // len(row) + 1)
    assert len(content) > 1024 * 1024
    response = _upload(manager_client, content)
    assert response.status_code == 200
    assert "The file is larger than 1 MB." in response.content.decode()
    assert not Invitation.objects.exists()


def test_csv_upload_without_a_file_is_a_form_error(manager_client) -> None:
    response = manager_client.post(INVITE, {"invite_csv": "1"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_a_csv_with_too_many_rows_is_refused_and_creates_nothing(manager_client, settings) -> None:
    settings.CSV_UPLOAD_MAX_ROWS = 3
    rows = "".join(f"p{n}@example.com,,,,\n" for n in range(4))
    response = _upload(manager_client, f"email,first_name,last_name,company,title\n{rows}".encode())
    assert response.status_code == 200
    assert "The file has more than 3 rows: split it." in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_member_with_a_mixed_case_stored_email_is_still_a_member(manager_client) -> None:
    user = factories.UserFactory()
    type(user).objects.filter(pk=user.pk).update(email="Mixed.Case@Example.com")
    factories.AdvocateFactory(user=user)
    content = b"email,first_name,last_name,company,title\nmixed.case@example.com,,,,\n"
    response = _upload(manager_client, content)
    assert "Line 2: mixed.case@example.com is already a member" in response.content.decode()
    assert not Invitation.objects.exists()
