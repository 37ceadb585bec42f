"""Writes for reference calls, by concern: requests and the prospect's link
(``requests``), asking advocates (``asks``), the call and its feedback (``calls``),
scheduling it (``scheduling``) and who attended (``attendance``).

Callers import from here: ``from references.services import call_record``.
"""

from references.services.asks import ask_answer, ask_reserve, asks_expire, request_ask_directly
from references.services.attendance import attendance_answer, attendance_sweep, dispute_resolve
from references.services.base import (
    CALL_LINK_DAYS,
    DEFAULT_CALL_POINTS,
    FEEDBACK_LINK_DAYS,
    LinkExpired,
    LinkInvalid,
    ReferenceError,
    call_points,
    rep_notify,
    request_locked,
)
from references.services.calls import (
    advocate_feedback_give,
    call_record,
    call_settle,
    prospect_feedback_give,
)
from references.services.drives import (
    DRIVE_STATUSES,
    drive_close,
    drive_create,
    drive_pass,
    drive_pick,
    industry_weights_delete,
    industry_weights_save,
)
from references.services.requests import (
    opportunity_close,
    prospect_choose,
    prospect_more_options,
    reference_pause_set,
    request_create,
    request_from_token,
    request_send_to_prospect,
    weights_update,
)
from references.services.scheduling import (
    MAX_SLOTS,
    MIN_SLOTS,
    Offer,
    meeting_cancel,
    meeting_offer,
    meeting_pick,
    meeting_time_set,
    meeting_zoom_sync,
    reminders_due,
    slots_to_utc,
    zoom_available,
)

__all__ = [
    "CALL_LINK_DAYS",
    "DEFAULT_CALL_POINTS",
    "DRIVE_STATUSES",
    "FEEDBACK_LINK_DAYS",
    "MAX_SLOTS",
    "MIN_SLOTS",
    "LinkExpired",
    "LinkInvalid",
    "Offer",
    "ReferenceError",
    "advocate_feedback_give",
    "ask_answer",
    "ask_reserve",
    "asks_expire",
    "attendance_answer",
    "attendance_sweep",
    "call_points",
    "call_record",
    "call_settle",
    "dispute_resolve",
    "drive_close",
    "drive_create",
    "drive_pass",
    "drive_pick",
    "industry_weights_delete",
    "industry_weights_save",
    "meeting_cancel",
    "meeting_offer",
    "meeting_pick",
    "meeting_time_set",
    "meeting_zoom_sync",
    "opportunity_close",
    "prospect_choose",
    "prospect_feedback_give",
    "prospect_more_options",
    "reference_pause_set",
    "reminders_due",
    "rep_notify",
    "request_ask_directly",
    "request_create",
    "request_from_token",
    "request_locked",
    "request_send_to_prospect",
    "slots_to_utc",
    "weights_update",
    "zoom_available",
]
