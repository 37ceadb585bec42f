"""What every reference service shares: the refusal errors, the call's points, the
request's row lock and the rep's "needs you" notice.
"""

from __future__ import annotations

from django.conf import settings

from core.outbox import enqueue_after_commit
from references.models import ReferenceRequest

FEEDBACK_LINK_DAYS = 30
# The prospect's call page works from the choice until well after any call is held.
CALL_LINK_DAYS = 90
DEFAULT_CALL_POINTS = 250


class ReferenceError(Exception):
    """A refused action; the message is shown to the user as it is."""


class LinkInvalid(ReferenceError):
    pass


class LinkExpired(ReferenceError):
    pass


def call_points() -> int:
    return int(getattr(settings, "REFERENCE_CALL_POINTS", DEFAULT_CALL_POINTS))


def request_locked(request_id: int) -> ReferenceRequest:
    return ReferenceRequest.objects.select_for_update().get(pk=request_id)


def rep_notify(request: ReferenceRequest, why: str) -> None:
    """Queue a "needs you" email to the rep (called under the request's row lock)."""
    request.rep_notice_count += 1
    request.save(update_fields=["rep_notice_count"])
    enqueue_after_commit(
        "references.tasks.rep_notice_send", request.pk, why, request.rep_notice_count
    )
