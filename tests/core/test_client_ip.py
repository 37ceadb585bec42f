"""Behind a reverse proxy every limiter keys on the visitor, not on the proxy.

nginx (one trusted proxy) connects from its own address and appends the visitor's to
X-Forwarded-For; anything further left in that header was written by the visitor.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from core.http import client_ip
from referrals.models import Referral
from referrals.services import referral_link_for
from tests import factories

PROXY = "10.0.0.5"


def _request(xff: str | None = None, remote: str = PROXY):
    headers = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("count", "xff", "expected"),
    [
        (0, "198.51.100.1", PROXY),  # no proxy trusted: the header is the client's word
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the forged entry is ignored
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # LB in front of nginx
        (2, "198.51.100.1", PROXY),  # too few entries: did not come through the proxies
        (1, None, PROXY),
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address(settings, count, xff, expected) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(xff)) == expected


def _visitor(n: int) -> Client:
    # What nginx sends for visitor n: its own peer address, the visitor's appended.
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")


@pytest.mark.django_db
def test_ten_visitors_mistyping_once_do_not_lock_out_an_eleventh(settings, advocate) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    login = reverse("account_login")
    for n in range(1, 11):
        factories.AdvocateFactory(user__email=f"visitor{n}@example.com")
        response = _visitor(n).post(
            login, {"login": f"visitor{n}@example.com", "password": "mistyped"}
        )
        assert "Too many failed login attempts" not in response.content.decode()
    eleventh = _visitor(11)
    response = eleventh.post(login, {"login": "ada@example.com", "password": factories.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    assert "_auth_user_id" in eleventh.session


@pytest.mark.django_db
def test_one_visitor_is_still_limited_behind_the_proxy(settings, advocate) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    login = reverse("account_login")
    # The attacker changes the part of the header they control: nginx's entry stays.
    for n in range(11):
        response = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.77").post(
            login, {"login": f"nobody{n}@example.com", "password": "guess"}
        )
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_the_landing_form_limit_is_per_visitor_behind_the_proxy(settings, advocate) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REFERRAL_LANDING_MAX_POSTS = 1
    link = referral_link_for(advocate_id=advocate.pk)
    url = reverse("referrals:landing", kwargs={"code": link.code})
    for n in range(1, 7):
        response = _visitor(n).post(
            url,
            {"name": f"Lead {n}", "email": f"lead{n}@buyer{n}.example", "company": "Buyer"},
        )
        assert response.status_code == 302, (n, response.status_code)
    assert Referral.objects.count() == 6
