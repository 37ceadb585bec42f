"""Who is on the public landing page: the client's address and a per-visitor id.

The landing page counts one visit per visitor per day (``referral_link_visit``) and
throttles form posts per address; both start here.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.crypto import salted_hmac

from core.http import client_ip

# The landing page tells visitors apart by a random id in a signed first-party cookie.
VISITOR_COOKIE = "vouch_visitor"
VISITOR_SALT = "referrals.visitor"
VISITOR_MAX_AGE = 365 * 24 * 60 * 60


def visitor_ids(request: HttpRequest) -> tuple[list[str], str]:
    """The ids a landing-page visitor goes by, and the cookie id to give them if new.

    Signed, so a script inventing a cookie per request is not a new visitor each time.
    Without a valid cookie the visitor is their address and browser (kept only as a
    keyed hash), and the cookie they are given is remembered with it: one visitor, not
    two. Two people behind one address with the same browser count once a day until
    their cookies tell them apart; undercounting is the lesser error.
    """
    known = request.get_signed_cookie(VISITOR_COOKIE, default="", salt=VISITOR_SALT)
    if known:
        return [f"cookie:{known}"], ""
    given = secrets.token_urlsafe(16)
    agent = request.headers.get("user-agent", "")
    address = salted_hmac(VISITOR_SALT, f"{client_ip(request)}\n{agent}").hexdigest()
    return [f"address:{address}", f"cookie:{given}"], given


def visitor_cookie_set(response: HttpResponse, given: str) -> None:
    """Give a new visitor their id: first-party, kept a year, for the landing pages only."""
    response.set_signed_cookie(
        VISITOR_COOKIE,
        given,
        salt=VISITOR_SALT,
        max_age=VISITOR_MAX_AGE,
        path=reverse("referrals:card_landing"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
