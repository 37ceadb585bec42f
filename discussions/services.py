"""Writes for the community: posting, replying, accepting answers, votes, idea status,
mentions and moderation.

Each write that races (two accepts, two votes, a reply against a lock) takes the
thread's row lock first (``select_for_update``) and then, through the ledger, the
advocate's: always in that order. Notifications are rows written in the same
transaction (the hub reads them), so a refused change notifies no one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocates.models import Advocate, CommunityGroup, GroupMembership, Notification, User
from core.audit import audit_record
from core.i18n import lazy_text, number, speaking_to
from core.models import ProgramSettings
from discussions import markdown
from discussions.models import Reply, Report, Thread, Vote
from discussions.selectors import Viewer, threads_for
from rewards.services.ledger import LedgerError, points_award, points_reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TITLE_MAX = 200
BODY_MAX = 10000
REASON_MAX = 500

# A mention is "@" and an advocate's handle: the part of their email before the "@",
# matched without regard to case (ada.lovelace@acme.com is @ada.lovelace). It must
# start the text or follow a space or punctuation, so an email address in a post is
# no mention. A handle two active advocates share is ambiguous and notifies neither;
# in a group's thread only the group's members can be mentioned (no one is told about
# a thread they cannot open).
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})")


class DiscussionError(Exception):
    """A refused change; the message is fit to show the user."""


# What each text is called in the refusals, a whole sentence per text so that each
# language can word it (and give the noun its gender).
_EMPTY = {
    "title": lambda: _("Write a title."),
    "post": lambda: _("Write a post."),
    "reply": lambda: _("Write a reply."),
    "reason": lambda: _("Write a reason."),
}
_TOO_LONG = {
    "title": lambda: _("The title is too long: at most %(limit)s characters."),
    "post": lambda: _("The post is too long: at most %(limit)s characters."),
    "reply": lambda: _("The reply is too long: at most %(limit)s characters."),
    "reason": lambda: _("The reason is too long: at most %(limit)s characters."),
}


def _clean_text(value: str, *, label: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise DiscussionError(_EMPTY[label]())
    if len(value) > limit:
        raise DiscussionError(_TOO_LONG[label]() % {"limit": number(limit)})
    return value


def _can_post(viewer: Viewer) -> None:
    if not viewer.is_manager and viewer.advocate_id is None:
        raise DiscussionError(_("Only advocates and community managers can post here."))


def _thread_url(thread: Thread) -> str:
    return reverse("discussions:thread", kwargs={"pk": thread.pk})


def _locked_thread(viewer: Viewer, thread_id: int) -> Thread:
    """The thread under its row lock, if the viewer may see it (DoesNotExist otherwise)."""
    visible = threads_for(viewer).values("pk")
    return Thread.objects.select_for_update().filter(pk__in=visible).get(pk=thread_id)


# --- Threads and replies ------------------------------------------------------------------


def thread_create(
    *, viewer: Viewer, kind: str, title: str, body: str, group_id: int | None = None
) -> Thread:
    _can_post(viewer)
    if kind not in Thread.Kind.values:
        raise DiscussionError(_("Choose a question or an idea."))
    title = _clean_text(title, label="title", limit=TITLE_MAX)
    body = _clean_text(body, label="post", limit=BODY_MAX)
    group = None
    if group_id is not None:
        group = CommunityGroup.objects.filter(pk=group_id, archived_at__isnull=True).first()
        member = (
            group is not None
            and viewer.advocate_id is not None
            and GroupMembership.objects.filter(
                group=group, advocate_id=viewer.advocate_id, status=GroupMembership.Status.MEMBER
            ).exists()
        )
        if group is None or not (viewer.is_manager or member):
            raise DiscussionError(_("You can only post in a group you are a member of."))
    with transaction.atomic():
        thread = Thread.objects.create(
            kind=kind,
            title=title,
            body=body,
            body_html=markdown.render(body),
            author=viewer.user,
            group=group,
        )
        _notify_mentions(thread, body, by=viewer.user, skip=set())
    return thread


def reply_create(*, viewer: Viewer, thread_id: int, body: str) -> Reply:
    _can_post(viewer)
    body = _clean_text(body, label="reply", limit=BODY_MAX)
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        if thread.locked_at is not None:
            raise DiscussionError(_("This thread is locked: it takes no more replies."))
        now = timezone.now()
        reply = Reply.objects.create(
            thread=thread, author=viewer.user, body=body, body_html=markdown.render(body)
        )
        Thread.objects.filter(pk=thread.pk).update(
            reply_count=F("reply_count") + 1, last_activity_at=now
        )
        told: set[int] = set()
        if thread.author_id != viewer.user.pk:
            author = _advocates([thread.author_id])
            _notify(
                author,
                lambda: (
                    _("%(name)s replied to “%(title)s”.")
                    % {"name": _name(viewer.user), "title": thread.title}
                ),
                url=f"{_thread_url(thread)}#reply-{reply.pk}",
            )
            told |= {advocate.pk for advocate in author}
        _notify_mentions(thread, body, by=viewer.user, skip=told, anchor=f"#reply-{reply.pk}")
    return reply


def _name(user: User) -> str:
    return user.get_full_name() or user.email.split("@")[0]


def _advocates(user_ids: Iterable[int]) -> list[Advocate]:
    """The active advocates of ``user_ids``, with their user (whose language they read)."""
    return list(
        Advocate.objects.filter(user_id__in=user_ids, status=Advocate.Status.ACTIVE).select_related(
            "user"
        )
    )


def _notify(advocates: Iterable[Advocate], message: Callable[[], str], *, url: str) -> None:
    """One notification per advocate, each written in their own language."""
    rows = []
    for advocate in advocates:
        with speaking_to(advocate.user):
            rows.append(Notification(advocate_id=advocate.pk, message=message()[:255], url=url))
    Notification.objects.bulk_create(rows)


def mentioned_advocates(thread: Thread, text: str) -> list[int]:
    """The ids of the advocates ``text`` mentions who may read ``thread`` (see MENTION)."""
    handles = {handle.lower().rstrip(".") for handle in MENTION.findall(text)}
    if not handles:
        return []
    match = Q()
    for handle in handles:
        match |= Q(user__email__istartswith=f"{handle}@")
    candidates = Advocate.objects.filter(match, status=Advocate.Status.ACTIVE)
    if thread.group_id is not None:
        candidates = candidates.filter(
            group_memberships__group_id=thread.group_id,
            group_memberships__status=GroupMembership.Status.MEMBER,
        )
    by_handle: dict[str, list[int]] = {}
    for pk, email in candidates.values_list("pk", "user__email"):
        handle = email.rsplit("@", 1)[0].lower()
        if handle in handles:
            by_handle.setdefault(handle, []).append(pk)
    return sorted(ids[0] for ids in by_handle.values() if len(ids) == 1)


def _notify_mentions(
    thread: Thread, text: str, *, by: User, skip: set[int], anchor: str = ""
) -> None:
    own = {advocate.pk for advocate in _advocates([by.pk])}
    targets = [pk for pk in mentioned_advocates(thread, text) if pk not in skip | own]
    if not targets:
        return
    _notify(
        Advocate.objects.filter(pk__in=targets).select_related("user").order_by("pk"),
        lambda: (
            _("%(name)s mentioned you in “%(title)s”.") % {"name": _name(by), "title": thread.title}
        ),
        url=_thread_url(thread) + anchor,
    )


# --- Accepted answers ---------------------------------------------------------------------


def _may_accept(viewer: Viewer, thread: Thread) -> None:
    if not thread.is_question:
        raise DiscussionError(_("Only a question has an accepted answer."))
    if not (viewer.is_manager or thread.author_id == viewer.user.pk):
        raise DiscussionError(_("Only the person who asked (or a manager) can accept an answer."))


def _no_longer_accepted(thread: Thread) -> StrOrPromise:
    return lazy_text(gettext_lazy("Answer no longer accepted: %(title)s"), title=thread.title)


def _reverse_award(thread: Thread, why: StrOrPromise) -> None:
    if thread.answer_award_id is None:
        return
    try:
        points_reverse(entry_id=thread.answer_award_id, reason=why)
    except LedgerError as error:
        # Their points are already spent: the award stays where it is, and so does the
        # accepted answer, rather than owe points the ledger cannot take back.
        raise DiscussionError(
            _(
                "The points for the accepted answer cannot be taken back (%(error)s) "
                "A manager can sort it out in the ledger."
            )
            % {"error": error}
        ) from error
    thread.answer_award = None


def answer_accept(*, viewer: Viewer, reply_id: int) -> Thread:
    """Accept ``reply_id`` as its question's answer and pay its author once.

    Accepting another reply later moves the award: the first entry is reversed through
    the ledger, the new author paid. Self-answers (and managers' replies) pay nothing.
    """
    thread_id = Reply.objects.filter(pk=reply_id).values_list("thread_id", flat=True).first()
    if thread_id is None:
        raise Thread.DoesNotExist
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        _may_accept(viewer, thread)
        reply = Reply.objects.filter(pk=reply_id, thread=thread, hidden_at__isnull=True).first()
        if reply is None:
            raise DiscussionError(_("This reply cannot be accepted."))
        if thread.accepted_reply_id == reply.pk:
            return thread  # a double click
        _reverse_award(thread, _no_longer_accepted(thread))
        thread.accepted_reply = reply
        thread.accept_count += 1
        points = ProgramSettings.load().accepted_answer_points
        payee = None
        if reply.author_id != thread.author_id and points > 0:
            payee = next(iter(_advocates([reply.author_id])), None)
        if payee is not None:
            result = points_award(
                advocate_id=payee.pk,
                amount=points,
                reason=lazy_text(gettext_lazy("Accepted answer: %(title)s"), title=thread.title),
                idempotency_key=f"discussion-answer:{thread.pk}:{thread.accept_count}",
                source=reply,
            )
            thread.answer_award = result.entry
            _notify(
                [payee],
                lambda: (
                    _("Your answer to “%(title)s” was accepted: +%(points)s points.")
                    % {"title": thread.title, "points": number(points)}
                ),
                url=f"{_thread_url(thread)}#reply-{reply.pk}",
            )
        thread.save(update_fields=["accepted_reply", "answer_award", "accept_count", "updated_at"])
    return thread


def answer_unaccept(*, viewer: Viewer, thread_id: int) -> Thread:
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        _may_accept(viewer, thread)
        if thread.accepted_reply_id is None:
            return thread
        _reverse_award(thread, _no_longer_accepted(thread))
        thread.accepted_reply = None
        thread.save(update_fields=["accepted_reply", "answer_award", "updated_at"])
    return thread


# --- Ideas --------------------------------------------------------------------------------


def vote_toggle(*, viewer: Viewer, thread_id: int) -> bool:
    """Vote for an idea, or take the vote back; returns whether the advocate now votes."""
    if viewer.advocate_id is None:
        raise DiscussionError(_("Only advocates vote on ideas."))
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        if not thread.is_idea:
            raise DiscussionError(_("Only ideas take votes."))
        deleted, _rows = Vote.objects.filter(thread=thread, advocate_id=viewer.advocate_id).delete()
        if deleted:
            Thread.objects.filter(pk=thread.pk).update(vote_count=F("vote_count") - 1)
            return False
        Vote.objects.create(thread=thread, advocate_id=viewer.advocate_id)
        Thread.objects.filter(pk=thread.pk).update(vote_count=F("vote_count") + 1)
        return True


def idea_status_set(*, viewer: Viewer, thread_id: int, status: str) -> bool:
    """A manager moves an idea along; each voter hears of it. False if unchanged."""
    if not viewer.is_manager:
        raise DiscussionError(_("Only a community manager sets an idea's status."))
    if status not in Thread.IdeaStatus.values:
        raise DiscussionError(_("Choose one of the statuses offered."))
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        if not thread.is_idea:
            raise DiscussionError(_("Only an idea has a status."))
        if thread.idea_status == status:
            return False
        thread.idea_status = status
        thread.save(update_fields=["idea_status", "updated_at"])
        idea_status = Thread.IdeaStatus(status)
        _notify(
            Advocate.objects.filter(pk__in=thread.votes.values("advocate_id")).select_related(
                "user"
            ),
            lambda: (
                _("An idea you voted for, “%(title)s”, is now %(status)s.")
                % {"title": thread.title, "status": Thread.IDEA_STATUS_IN_SENTENCE[idea_status]}
            ),
            url=_thread_url(thread),
        )
        audit_record(
            actor=viewer.user,
            action="discussion.idea_status",
            target=thread,
            detail={"status": status},
        )
    return True


# --- Moderation ---------------------------------------------------------------------------


def _manager(viewer: Viewer) -> None:
    if not viewer.is_manager:
        raise DiscussionError(_("Only a community manager moderates."))


def thread_lock(*, viewer: Viewer, thread_id: int, lock: bool = True) -> Thread:
    _manager(viewer)
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        thread.locked_at = timezone.now() if lock else None
        thread.locked_by = viewer.user if lock else None
        thread.save(update_fields=["locked_at", "locked_by", "updated_at"])
        audit_record(
            actor=viewer.user, action=f"discussion.{'lock' if lock else 'unlock'}", target=thread
        )
    return thread


def thread_hide(*, viewer: Viewer, thread_id: int, hide: bool = True) -> Thread:
    _manager(viewer)
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        thread.hidden_at = timezone.now() if hide else None
        thread.hidden_by = viewer.user if hide else None
        thread.save(update_fields=["hidden_at", "hidden_by", "updated_at"])
        if hide:
            _resolve_reports(Report.objects.filter(thread=thread, reply=None), viewer)
        audit_record(
            actor=viewer.user, action=f"discussion.{'hide' if hide else 'show'}", target=thread
        )
    return thread


def reply_hide(*, viewer: Viewer, reply_id: int, hide: bool = True) -> Reply:
    _manager(viewer)
    thread_id = Reply.objects.filter(pk=reply_id).values_list("thread_id", flat=True).first()
    if thread_id is None:
        raise Reply.DoesNotExist
    with transaction.atomic():
        # The thread first, as every other write here: an accepted answer may move.
        thread = Thread.objects.select_for_update().get(pk=thread_id)
        reply = Reply.objects.select_for_update().get(pk=reply_id)
        if hide and thread.accepted_reply_id == reply.pk:
            # A hidden reply is no answer: its award goes back, if it still can.
            with contextlib.suppress(DiscussionError):
                _reverse_award(
                    thread,
                    lazy_text(
                        gettext_lazy("Answer hidden by a moderator: %(title)s"), title=thread.title
                    ),
                )
                thread.accepted_reply = None
                thread.save(update_fields=["accepted_reply", "answer_award", "updated_at"])
        if reply.hidden_at is None and hide:
            Thread.objects.filter(pk=reply.thread_id).update(reply_count=F("reply_count") - 1)
        elif reply.hidden_at is not None and not hide:
            Thread.objects.filter(pk=reply.thread_id).update(reply_count=F("reply_count") + 1)
        reply.hidden_at = timezone.now() if hide else None
        reply.hidden_by = viewer.user if hide else None
        reply.save(update_fields=["hidden_at", "hidden_by", "updated_at"])
        if hide:
            _resolve_reports(Report.objects.filter(reply=reply), viewer)
        audit_record(
            actor=viewer.user,
            action=f"discussion.reply_{'hide' if hide else 'show'}",
            target=reply,
        )
    return reply


def report_create(
    *, viewer: Viewer, thread_id: int, reason: str, reply_id: int | None = None
) -> Report:
    """Flag a post for the moderators; one open report per person and post."""
    if viewer.advocate_id is None:
        raise DiscussionError(_("Only advocates report posts; managers can hide them directly."))
    with transaction.atomic():
        thread = _locked_thread(viewer, thread_id)
        reason = _clean_text(reason, label="reason", limit=REASON_MAX)
        reply = None
        if reply_id is not None:
            reply = Reply.objects.filter(pk=reply_id, thread=thread, hidden_at__isnull=True).first()
            if reply is None:
                raise DiscussionError(_("This reply cannot be reported."))
        # Under the thread's lock: two clicks cannot both find no open report.
        existing = Report.objects.filter(
            thread=thread, reply=reply, reporter=viewer.user, resolved_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        return Report.objects.create(
            thread=thread, reply=reply, reporter=viewer.user, reason=reason
        )


def _resolve_reports(reports, viewer: Viewer, resolution: str = Report.Resolution.HIDDEN) -> int:
    return reports.filter(resolved_at__isnull=True).update(
        resolution=resolution, resolved_at=timezone.now(), resolved_by=viewer.user
    )


def report_decide(*, viewer: Viewer, report_id: int, action: str) -> Report:
    """Hide what the report points at (closing every open report on it) or dismiss it."""
    _manager(viewer)
    if action not in ("hide", "dismiss"):
        raise DiscussionError(_("Choose hide or dismiss."))
    report = Report.objects.get(pk=report_id)
    if report.resolved_at is not None:
        raise DiscussionError(_("This report was already dealt with."))
    if action == "dismiss":
        _resolve_reports(Report.objects.filter(pk=report.pk), viewer, Report.Resolution.DISMISSED)
    elif report.reply_id is not None:
        reply_hide(viewer=viewer, reply_id=report.reply_id)
    else:
        thread_hide(viewer=viewer, thread_id=report.thread_id)
    report.refresh_from_db()
    return report
