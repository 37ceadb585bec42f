"""Signed links in every campaign email: unsubscribe, open pixel, click tracker."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import get_urlconf, reverse

TOKEN_SALTS = {
    "unsubscribe": "campaigns.unsubscribe.v1",
    "open": "campaigns.open.v1",
    "click": "campaigns.click.v1",
}


# --- Signed links in every email --------------------------------------------------------


def token_make(purpose: str, message_id: int, url: str = "") -> str:
    payload: dict[str, Any] = {"m": message_id}
    if url:
        payload["u"] = url
    return signing.dumps(payload, salt=TOKEN_SALTS[purpose], compress=True)


def token_read(purpose: str, token: str) -> tuple[int, str] | None:
    """(message id, url) from a token of ``purpose``; None when forged or malformed.

    No expiry: an unsubscribe link must keep working for as long as the email exists.
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALTS[purpose])
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("m"), int):
        return None
    url = payload.get("u", "")
    return payload["m"], url if isinstance(url, str) else ""


@functools.lru_cache(maxsize=16)
def _link_around(name: str, site_url: str, urlconf: str | None) -> tuple[str, str]:
    """The absolute URL of ``name`` around its token, reversed once per process.

    A token (URL-safe base64 and ":") comes out of reverse() unchanged, so joining the
    two halves around it is the same URL without a reverse() per email
    (tests/campaigns/test_sending.py checks it).
    """
    url = site_url + reverse(name, kwargs={"token": "TOKEN"}, urlconf=urlconf)
    head, _, tail = url.rpartition("TOKEN")
    return head, tail


def _link(name: str, token: str) -> str:
    head, tail = _link_around(name, settings.SITE_URL, get_urlconf())
    return f"{head}{token}{tail}"


def unsubscribe_url(message_id: int) -> str:
    return _link("campaigns:unsubscribe", token_make("unsubscribe", message_id))


def open_pixel_url(message_id: int) -> str:
    return _link("campaigns:track_open", token_make("open", message_id))


def click_url(message_id: int, url: str) -> str:
    return _link("campaigns:track_click", token_make("click", message_id, url))
