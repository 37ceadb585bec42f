"""Writes for groups: managers create, edit, archive and rotate invite codes, and decide
join requests; advocates join, ask to join, join by invite link and leave.

Every membership change is keyed by the one row per (group, advocate) the database
allows (``group_membership_unique``): joining twice finds the row, and a status moves
only by a conditional update, so a double click or two managers deciding the same
request at once change it once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from advocates.links import GROUP_INVITE_MAX_AGE, GROUP_INVITE_SALT
from advocates.models import Advocate, CommunityGroup, GroupMembership, Notification, User
from core import fragments
from core.audit import audit_record
from core.i18n import speaking_to

GROUP_FIELDS = ("name", "description", "kind")
# Marked here, translated where raised.
INVALID_INVITE = gettext_noop(
    "This group invite link is not valid. Open the whole link you were sent, "
    "or ask a community manager for a new one."
)
EXPIRED_INVITE = gettext_noop(
    "This group invite link has expired. Ask a community manager for a new one."
)
ROTATED_INVITE = gettext_noop(
    "This group invite link is no longer in use: the group has a new one. "
    "Ask a community manager for it."
)


class GroupError(Exception):
    """A refused group action; the message is shown to the user as it is."""


@dataclass(frozen=True)
class JoinResult:
    membership: GroupMembership
    changed: bool  # False: the advocate was already a member (or had already asked)


def _new_nonce() -> str:
    return secrets.token_urlsafe(12)


def _validate(data: dict[str, object], *, group_id: int | None = None) -> dict[str, object]:
    unknown = set(data) - set(GROUP_FIELDS)
    if unknown:
        raise TypeError(f"Unknown group fields: {sorted(unknown)}")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": gettext("Give the group a name.")})
    same_name = CommunityGroup.objects.filter(name__iexact=name)
    if group_id is not None:
        same_name = same_name.exclude(pk=group_id)
    if same_name.exists():
        raise ValidationError(
            {"name": gettext("There is already a group called “%(name)s”.") % {"name": name}}
        )
    kind = data.get("kind") or CommunityGroup.Kind.OPEN
    if kind not in CommunityGroup.Kind.values:
        raise ValidationError({"kind": gettext("Choose who can join.")})
    return {"name": name, "description": str(data.get("description") or "").strip(), "kind": kind}


# --- Managers ---------------------------------------------------------------------------


def group_create(*, data: dict[str, object], by: User | None) -> CommunityGroup:
    """Create a group from ``GROUP_FIELDS``; raises ValidationError on bad values."""
    clean = _validate(data)
    try:
        with transaction.atomic():
            group = CommunityGroup.objects.create(**clean, invite_nonce=_new_nonce(), created_by=by)
            audit_record(actor=by, action="group.create", target=group, detail={"kind": group.kind})
    except IntegrityError:
        # Two managers naming a group the same at once: the constraint picks one.
        raise ValidationError(
            {
                "name": gettext("There is already a group called “%(name)s”.")
                % {"name": clean["name"]}
            }
        ) from None
    return group


def group_update(*, group_id: int, data: dict[str, object], by: User | None) -> CommunityGroup:
    clean = _validate(data, group_id=group_id)
    try:
        with transaction.atomic():
            group = CommunityGroup.objects.select_for_update().get(pk=group_id)
            for name, value in clean.items():
                setattr(group, name, value)
            group.save()
            audit_record(actor=by, action="group.update", target=group, detail=clean)
    except IntegrityError:
        raise ValidationError(
            {
                "name": gettext("There is already a group called “%(name)s”.")
                % {"name": clean["name"]}
            }
        ) from None
    return group


def group_archive(*, group_id: int, by: User | None, archive: bool = True) -> bool:
    """Archive (or restore) a group; False when it already was. An archived group takes
    no one new and is hidden from advocates; its members, and the challenges and
    rewards that name it, are kept, so restoring it brings everything back."""
    now = timezone.now()
    groups = CommunityGroup.objects.filter(pk=group_id, archived_at__isnull=archive)
    changed = bool(groups.update(archived_at=now if archive else None, updated_at=now))
    if changed:
        fragments.reset()  # the challenges and rewards that name it show or hide
        audit_record(
            actor=by,
            action="group.archive" if archive else "group.restore",
            target=CommunityGroup.objects.get(pk=group_id),
        )
    return changed


def group_invite_rotate(*, group_id: int, by: User | None) -> CommunityGroup:
    """A new invite code: every link handed out before stops working."""
    CommunityGroup.objects.filter(pk=group_id).update(
        invite_nonce=_new_nonce(), updated_at=timezone.now()
    )
    group = CommunityGroup.objects.get(pk=group_id)
    audit_record(actor=by, action="group.invite_rotate", target=group)
    return group


def group_request_decide(*, membership_id: int, approve: bool, by: User | None) -> bool:
    """Approve (membership) or decline (the request is removed) a pending request.

    False when it was no longer pending: decided by someone else, or withdrawn.
    """
    now = timezone.now()
    with transaction.atomic():
        pending = GroupMembership.objects.filter(
            pk=membership_id, status=GroupMembership.Status.PENDING
        )
        row = pending.select_related("group", "advocate__user").first()
        if row is None:
            return False
        # The status is the guard: of two managers deciding at once, one changes a row.
        if approve:
            changed = pending.update(
                status=GroupMembership.Status.MEMBER, joined_at=now, decided_by=by
            )
            fragments.advocates_changed([row.advocate_id])
        else:
            changed, _ = pending.delete()
        if not changed:
            return False
        verdict = "approved" if approve else "declined"
        # Read later by the advocate: written in their language.
        with speaking_to(row.advocate.user):
            if approve:
                message = gettext("Welcome to the %(group)s group.") % {"group": row.group.name}
            else:
                message = gettext("Your request to join %(group)s was declined.") % {
                    "group": row.group.name
                }
        Notification.objects.create(advocate_id=row.advocate_id, message=message)
        audit_record(
            actor=by,
            action=f"group.request_{verdict}",
            target=row.group,
            detail={"advocate": row.advocate_id},
        )
    return True


# --- Advocates --------------------------------------------------------------------------


def _active_advocate(advocate_id: int) -> Advocate:
    advocate = Advocate.objects.only("id", "status").get(pk=advocate_id)
    if advocate.status != Advocate.Status.ACTIVE:
        raise GroupError(gettext("Your membership is not active."))
    return advocate


def _open_group(group_id: int) -> CommunityGroup:
    group = CommunityGroup.objects.filter(pk=group_id, archived_at__isnull=True).first()
    if group is None:
        raise GroupError(gettext("This group is not available."))
    return group


def _join(group: CommunityGroup, advocate_id: int, status: str) -> JoinResult:
    """Put the advocate in ``group`` with ``status``, once.

    A pending request is raised to membership by a join (an invite link, or the group
    opened since); a member stays a member whatever else is asked.
    """
    now = timezone.now()
    joined_at = now if status == GroupMembership.Status.MEMBER else None
    try:
        with transaction.atomic():
            membership, created = GroupMembership.objects.get_or_create(
                group=group,
                advocate_id=advocate_id,
                defaults={"status": status, "requested_at": now, "joined_at": joined_at},
            )
    except IntegrityError:  # the same join at the same moment: the first one stands
        membership, created = (
            GroupMembership.objects.get(group=group, advocate_id=advocate_id),
            False,
        )
    if created:
        return JoinResult(membership=membership, changed=True)
    if (
        status == GroupMembership.Status.MEMBER
        and membership.status == GroupMembership.Status.PENDING
    ):
        raised = GroupMembership.objects.filter(
            pk=membership.pk, status=GroupMembership.Status.PENDING
        ).update(status=GroupMembership.Status.MEMBER, joined_at=now)
        fragments.advocates_changed([advocate_id])
        membership.refresh_from_db()
        return JoinResult(membership=membership, changed=bool(raised))
    return JoinResult(membership=membership, changed=False)


def group_join(*, group_id: int, advocate_id: int) -> JoinResult:
    """Join an open group, or ask to join a request group (a manager decides).

    An invite-only group is joined through its invite link (``group_join_by_invite``).
    """
    _active_advocate(advocate_id)
    group = _open_group(group_id)
    if group.kind == CommunityGroup.Kind.OPEN:
        return _join(group, advocate_id, GroupMembership.Status.MEMBER)
    if group.kind == CommunityGroup.Kind.REQUEST:
        return _join(group, advocate_id, GroupMembership.Status.PENDING)
    raise GroupError(
        gettext("%(group)s is invite-only: join it with the invite link a community manager sent.")
        % {"group": group.name}
    )


def group_from_invite(token: str) -> CommunityGroup:
    """The group a signed invite link opens, or GroupError saying what is wrong with it."""
    try:
        data = signing.loads(token, salt=GROUP_INVITE_SALT, max_age=GROUP_INVITE_MAX_AGE)
    except signing.SignatureExpired:
        raise GroupError(gettext(EXPIRED_INVITE)) from None
    except signing.BadSignature:
        raise GroupError(gettext(INVALID_INVITE)) from None
    if not isinstance(data, dict) or not isinstance(data.get("g"), int):
        raise GroupError(gettext(INVALID_INVITE))
    group = CommunityGroup.objects.filter(pk=data["g"]).first()
    if group is None or group.is_archived:
        raise GroupError(gettext("This group is not available any more."))
    if not secrets.compare_digest(str(data.get("n", "")), group.invite_nonce):
        raise GroupError(gettext(ROTATED_INVITE))
    return group


def group_join_by_invite(*, token: str, advocate_id: int) -> JoinResult:
    """Join the group of a signed invite link (any kind: the link is the manager's yes).

    Opening the same link again changes nothing.
    """
    _active_advocate(advocate_id)
    group = group_from_invite(token)
    return _join(group, advocate_id, GroupMembership.Status.MEMBER)


def group_leave(*, group_id: int, advocate_id: int) -> bool:
    """Leave a group, or withdraw a request to join; False when not in it."""
    deleted, _ = GroupMembership.objects.filter(group_id=group_id, advocate_id=advocate_id).delete()
    return bool(deleted)
