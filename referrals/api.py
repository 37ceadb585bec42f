"""The CRM API's views: ``POST /api/crm/events``, signed like Stripe's webhooks.

Kept apart from ``views.py`` because it is a machine interface (JSON in and out, a
signature instead of a session), not a page. What an event does, and why each id is
applied once, is in ``referrals.services.crm``. Errors that changed nothing (bad
signature, malformed body, unknown referral) are not stored, so the CRM can fix and
resend the same id.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.roles import public
from referrals.services import crm
from referrals.webhooks import HEADER, SignatureError, verify


@public
@csrf_exempt
@require_POST
def crm_events(request: HttpRequest) -> JsonResponse:
    secret = settings.CRM_INBOUND_SECRET  # never the outbound one (config/settings/)
    if not secret:
        return JsonResponse({"error": "The CRM API is not enabled on this site."}, status=503)
    body = request.body
    try:
        verify(request.headers.get(HEADER), body, secret=secret)
    except SignatureError as error:
        return JsonResponse({"error": str(error)}, status=400)
    try:
        # A machine's exchange, stored and replayed: in the site's language, whatever
        # the CRM's Accept-Language says.
        with translation.override(settings.LANGUAGE_CODE):
            outcome = crm.crm_event_apply(body=body)
    except crm.EventError as error:
        # Rolled back: nothing stored, the id may be sent again.
        return JsonResponse(error.body(), status=error.status)
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
