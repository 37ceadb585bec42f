"""The request a signed-in view receives (after ``login_required`` or a role check)."""

from __future__ import annotations

from advocates.models import User
from core.http import HtmxHttpRequest


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """Behind a sign-in check ``request.user`` is a ``User``, never anonymous."""

    user: User  # narrower than HttpRequest's union: the sign-in check made sure
