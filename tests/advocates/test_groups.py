"""Groups: managers create, edit, archive and rotate the invite link, and decide requests;
advocates join an open group, ask to join a request group, join by invite link, leave."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse

from advocates.links import GROUP_INVITE_MAX_AGE, group_invite_token
from advocates.models import Advocate, CommunityGroup, GroupMembership, Notification
from advocates.services import groups as group_services
from core.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

OPEN, REQUEST, INVITE = (
    CommunityGroup.Kind.OPEN,
    CommunityGroup.Kind.REQUEST,
    CommunityGroup.Kind.INVITE,
)


def memberships(group) -> dict[int, str]:
    return dict(group.memberships.values_list("advocate_id", "status"))


# --- Managers: the console ----------------------------------------------------------------


def test_manager_creates_a_group_with_an_invite_link(manager, manager_client) -> None:
    response = manager_client.post(
        reverse("advocates:group_create"),
        {"name": "EMEA admins", "description": "Admins in Europe.", "kind": INVITE},
    )
    group = CommunityGroup.objects.get(name="EMEA admins")
    assert response.status_code == 302
    assert response["Location"] == reverse("advocates:group_detail", kwargs={"pk": group.pk})
    assert group.invite_nonce
    assert AuditEntry.objects.filter(action="group.create", target_id=str(group.pk)).exists()
    page = manager_client.get(response["Location"]).content.decode()
    assert "EMEA admins" in page
    assert reverse("advocates:group_invite", kwargs={"token": group_invite_token(group)}) in page


def test_a_duplicate_name_is_refused_and_nothing_is_created(manager_client) -> None:
    factories.GroupFactory(name="Beta testers")
    response = manager_client.post(
        reverse("advocates:group_create"), {"name": "beta TESTERS", "kind": OPEN}
    )
    assert response.status_code == 200
    assert "already a group" in response.content.decode()
    assert CommunityGroup.objects.count() == 1


def test_the_service_refuses_a_blank_name() -> None:
    with pytest.raises(ValidationError):
        group_services.group_create(data={"name": "  ", "kind": OPEN}, by=None)


def test_manager_edits_a_group(manager_client) -> None:
    group = factories.GroupFactory(name="Old name", kind=OPEN)
    response = manager_client.post(
        reverse("advocates:group_edit", kwargs={"pk": group.pk}),
        {"name": "New name", "description": "", "kind": REQUEST},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.kind) == ("New name", REQUEST)


def test_archiving_hides_the_group_and_restoring_brings_it_back(
    manager_client, advocate, advocate_client
) -> None:
    group = factories.GroupFactory(name="Seasonal")
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    url = reverse("advocates:group_archive", kwargs={"pk": group.pk})
    manager_client.post(url)
    group.refresh_from_db()
    assert group.is_archived
    assert "Seasonal" not in advocate_client.get(reverse("advocates:groups")).content.decode()
    # Nobody joins an archived group, and its members are kept.
    with pytest.raises(group_services.GroupError):
        group_services.group_join(group_id=group.pk, advocate_id=factories.AdvocateFactory().pk)
    assert memberships(group) == {advocate.pk: "member"}
    manager_client.post(url, {"restore": "1"})
    group.refresh_from_db()
    assert not group.is_archived
    assert "Seasonal" in advocate_client.get(reverse("advocates:groups")).content.decode()


def test_manager_approves_and_declines_requests(manager, manager_client) -> None:
    group = factories.GroupFactory(kind=REQUEST)
    asking = factories.GroupMembershipFactory(
        group=group, status=GroupMembership.Status.PENDING, joined_at=None
    )
    declined = factories.GroupMembershipFactory(
        group=group, status=GroupMembership.Status.PENDING, joined_at=None
    )
    page = manager_client.get(reverse("advocates:group_detail", kwargs={"pk": group.pk}))
    assert asking.advocate.name in page.content.decode()

    decide = "advocates:group_request_decide"
    manager_client.post(reverse(decide, kwargs={"pk": asking.pk}), {"decision": "approve"})
    manager_client.post(reverse(decide, kwargs={"pk": declined.pk}), {"decision": "decline"})

    asking.refresh_from_db()
    assert asking.status == GroupMembership.Status.MEMBER
    assert asking.joined_at is not None
    assert asking.decided_by == manager
    assert not GroupMembership.objects.filter(pk=declined.pk).exists()
    assert Notification.objects.filter(
        advocate=asking.advocate, message__contains="Welcome"
    ).exists()
    assert Notification.objects.filter(
        advocate=declined.advocate, message__contains="declined"
    ).exists()


def test_deciding_twice_changes_it_once(manager) -> None:
    request = factories.GroupMembershipFactory(status=GroupMembership.Status.PENDING)
    assert group_services.group_request_decide(membership_id=request.pk, approve=True, by=manager)
    assert not group_services.group_request_decide(
        membership_id=request.pk, approve=False, by=manager
    )
    request.refresh_from_db()
    assert request.status == GroupMembership.Status.MEMBER
    assert Notification.objects.filter(advocate=request.advocate).count() == 1


def test_a_bad_decision_changes_nothing(manager_client) -> None:
    request = factories.GroupMembershipFactory(status=GroupMembership.Status.PENDING)
    manager_client.post(
        reverse("advocates:group_request_decide", kwargs={"pk": request.pk}), {"decision": "maybe"}
    )
    request.refresh_from_db()
    assert request.status == GroupMembership.Status.PENDING


def test_group_list_query_count_does_not_grow_with_groups(
    manager_client, django_assert_max_num_queries
) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            group = factories.GroupFactory(kind=REQUEST)
            factories.GroupMembershipFactory(group=group)
            factories.GroupMembershipFactory(group=group, status=GroupMembership.Status.PENDING)

    add(2)
    manager_client.get(reverse("advocates:group_manage"))  # warm the per-process caches
    with django_assert_max_num_queries(8) as few:
        manager_client.get(reverse("advocates:group_manage"))
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(reverse("advocates:group_manage"))
    assert response.content.decode().count("1 waiting") == 22


def test_group_members_page_query_count_does_not_grow_with_members(
    manager_client, django_assert_max_num_queries
) -> None:
    group = factories.GroupFactory()
    url = reverse("advocates:group_detail", kwargs={"pk": group.pk})
    for _ in range(2):
        factories.GroupMembershipFactory(group=group)
    manager_client.get(url)
    with django_assert_max_num_queries(12) as few:
        manager_client.get(url)
    for _ in range(15):
        factories.GroupMembershipFactory(group=group)
        factories.GroupMembershipFactory(group=group, status=GroupMembership.Status.PENDING)
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager_client.get(url)


# --- Advocates: joining and leaving -------------------------------------------------------


def test_advocate_joins_an_open_group_and_leaves_it(advocate, advocate_client) -> None:
    group = factories.GroupFactory(name="Power users", kind=OPEN)
    page = advocate_client.get(reverse("advocates:groups")).content.decode()
    assert "Power users" in page
    advocate_client.post(reverse("advocates:group_join", kwargs={"pk": group.pk}))
    assert memberships(group) == {advocate.pk: "member"}
    advocate_client.post(reverse("advocates:group_join", kwargs={"pk": group.pk}))
    assert group.memberships.count() == 1
    advocate_client.post(reverse("advocates:group_leave", kwargs={"pk": group.pk}))
    assert memberships(group) == {}


def test_asking_to_join_a_request_group_waits_for_a_manager(advocate, advocate_client) -> None:
    group = factories.GroupFactory(name="Advisory board", kind=REQUEST)
    response = advocate_client.post(
        reverse("advocates:group_join", kwargs={"pk": group.pk}), follow=True
    )
    assert "sent to a manager" in response.content.decode()
    assert memberships(group) == {advocate.pk: "pending"}
    assert "Request sent" in advocate_client.get(reverse("advocates:groups")).content.decode()


def test_an_invite_only_group_cannot_be_joined_without_the_link(advocate, advocate_client) -> None:
    group = factories.GroupFactory(name="Secret beta", kind=INVITE)
    # Not listed to outsiders, and joining by id is refused with a reason.
    assert "Secret beta" not in advocate_client.get(reverse("advocates:groups")).content.decode()
    response = advocate_client.post(
        reverse("advocates:group_join", kwargs={"pk": group.pk}), follow=True
    )
    assert "invite-only" in response.content.decode()
    assert memberships(group) == {}


def test_an_inactive_advocate_cannot_join() -> None:
    group = factories.GroupFactory(kind=OPEN)
    paused = factories.AdvocateFactory(status=Advocate.Status.PAUSED)
    with pytest.raises(group_services.GroupError):
        group_services.group_join(group_id=group.pk, advocate_id=paused.pk)
    assert memberships(group) == {}


# --- Advocates: the invite link -----------------------------------------------------------


def test_the_invite_link_joins_and_opening_it_twice_is_idempotent(
    advocate, advocate_client
) -> None:
    group = factories.GroupFactory(name="Insiders", kind=INVITE)
    url = reverse("advocates:group_invite", kwargs={"token": group_invite_token(group)})
    page = advocate_client.get(url)
    assert page.status_code == 200
    assert "Join the group" in page.content.decode()
    assert memberships(group) == {}  # looking is not joining

    first = advocate_client.post(url, follow=True)
    assert "You joined Insiders" in first.content.decode()
    second = advocate_client.post(url, follow=True)
    assert "already a member" in second.content.decode()
    assert memberships(group) == {advocate.pk: "member"}
    assert "already a member" in advocate_client.get(url).content.decode()


def test_the_invite_link_turns_a_pending_request_into_membership(advocate) -> None:
    group = factories.GroupFactory(kind=REQUEST)
    group_services.group_join(group_id=group.pk, advocate_id=advocate.pk)
    result = group_services.group_join_by_invite(
        token=group_invite_token(group), advocate_id=advocate.pk
    )
    assert result.changed
    assert memberships(group) == {advocate.pk: "member"}


def test_a_rotated_code_stops_the_old_link(manager_client, advocate, advocate_client) -> None:
    group = factories.GroupFactory(kind=INVITE)
    old = reverse("advocates:group_invite", kwargs={"token": group_invite_token(group)})
    manager_client.post(reverse("advocates:group_rotate", kwargs={"pk": group.pk}))
    group.refresh_from_db()

    response = advocate_client.post(old)
    assert response.status_code == 410
    assert "no longer in use" in response.content.decode()
    assert memberships(group) == {}
    new = reverse("advocates:group_invite", kwargs={"token": group_invite_token(group)})
    advocate_client.post(new)
    assert memberships(group) == {advocate.pk: "member"}


def test_a_forged_link_is_refused(advocate, advocate_client) -> None:
    group = factories.GroupFactory(kind=INVITE)
    forged = signing.dumps({"g": group.pk, "n": group.invite_nonce}, salt="not-ours")
    response = advocate_client.post(reverse("advocates:group_invite", kwargs={"token": forged}))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()
    assert memberships(group) == {}


def test_an_expired_link_is_refused(advocate, advocate_client) -> None:
    group = factories.GroupFactory(kind=INVITE)
    signed_at = 1_900_000_000
    # The signer's clock only (django.core.signing reads time.time()): no sleep, no wall clock.
    with patch("django.core.signing.time") as clock:
        clock.time.return_value = signed_at
        token = group_invite_token(group)
        clock.time.return_value = signed_at + GROUP_INVITE_MAX_AGE.total_seconds() + 1
        response = advocate_client.post(reverse("advocates:group_invite", kwargs={"token": token}))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert memberships(group) == {}


def test_the_link_asks_a_visitor_to_sign_in_first(client) -> None:
    group = factories.GroupFactory(kind=INVITE)
    url = reverse("advocates:group_invite", kwargs={"token": group_invite_token(group)})
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert memberships(group) == {}


def test_groups_page_query_count_does_not_grow_with_groups(
    advocate, advocate_client, django_assert_max_num_queries
) -> None:
    def add(n: int) -> None:
        for index in range(n):
            mine = factories.GroupFactory(kind=OPEN)
            factories.GroupMembershipFactory(group=mine, advocate=advocate)
            factories.GroupMembershipFactory(group=mine)
            factories.GroupFactory(kind=REQUEST if index % 2 else INVITE)

    add(2)
    advocate_client.get(reverse("advocates:groups"))
    with django_assert_max_num_queries(8) as few:
        advocate_client.get(reverse("advocates:groups"))
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = advocate_client.get(reverse("advocates:groups")).content.decode()
    # Invite-only groups I am not in are not listed.
    assert page.count("Invite only") == 0
    assert page.count(">Ask to join<") == 11
