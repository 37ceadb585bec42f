"""Forms that mix required and optional fields mark the optional ones, and only those
forms: the lead form, the email referral, the verbal referral, the invitation."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from core.forms import OptionalMarkedForm

pytestmark = pytest.mark.django_db


class _Mixed(OptionalMarkedForm):
    name = forms.CharField()
    nickname = forms.CharField(required=False)
    pronouns = forms.CharField(label="Pronouns (optional)", required=False)
    newsletter = forms.BooleanField(label="Send me news", required=False)
    code = forms.CharField(required=False, widget=forms.HiddenInput)


def test_only_optional_visible_fields_are_marked_once() -> None:
    form = _Mixed()
    html = str(form)
    assert 'Nickname <span class="field-optional">(optional)</span>:' in html
    assert html.count("(optional)") == 2  # nickname, and pronouns' own label unchanged
    assert "Send me news (optional)" not in html  # a checkbox is never "required"
    assert "Name:" in html
    assert 'name="name" required' in html


@pytest.mark.parametrize(
    ("client_name", "url", "optional", "required"),
    [
        ("advocate_client", "referrals:new", "Company", "referred_email"),
        ("advocate_client", "referrals:email", "Their company", "referred_email"),
        ("rep_client", "referrals:verbal", "Title", "advocate_email"),
        ("rep_client", "advocates:invite", "First name", "email"),
    ],
)
def test_pages_with_mixed_forms_mark_their_optional_fields(
    request, client_name: str, url: str, optional: str, required: str
) -> None:
    page = request.getfixturevalue(client_name).get(reverse(url)).content.decode()
    assert f'{optional} <span class="field-optional">(optional)</span>' in page
    assert f'name="{required}"' in page
    tag = page.split(f'name="{required}"', 1)[1].split(">", 1)[0]
    assert " required" in tag
