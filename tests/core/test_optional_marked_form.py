"""Forms that mix required and optional fields mark the optional ones (the lead form, the
email and verbal referrals, the invitation, the profile, ...), and a new form cannot forget to."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.urls import reverse

from core.forms import OptionalMarkedForm, OptionalMarkedMixin

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


# Forms whose "optional" fields are required depending on another field's value (the
# challenge's kind or audience, a stage, a reward rule's kind, a campaign's kind, a won
# outcome): "(optional)" would be wrong half the time, so their help texts say when a
# field is needed. The segment form is all criteria: marking each filter is noise.
CONDITIONAL = {
    "challenges.forms.ChallengeForm",
    "references.forms.CloseForm",
    # Three times or a booking page: the form says so above the fields.
    "references.forms.OfferForm",
    "referrals.forms.AdvanceForm",
    "referrals.forms.RewardRuleForm",
    "campaigns.forms.CampaignForm",
    "campaigns.forms.SegmentForm",
}


def _project_forms() -> list[type[forms.BaseForm]]:
    found = []
    for app in (
        "core",
        "advocates",
        "rewards",
        "challenges",
        "references",
        "referrals",
        "campaigns",
        "console",
    ):
        for info in pkgutil.walk_packages(importlib.import_module(app).__path__, f"{app}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            module = importlib.import_module(info.name)
            found += [
                value
                for value in vars(module).values()
                if inspect.isclass(value)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ]
    return found


def test_every_form_mixing_required_and_optional_fields_marks_them() -> None:
    unmarked = []
    for form in _project_forms():
        visible = [
            field
            for field in form.base_fields.values()
            if not field.widget.is_hidden and not isinstance(field, forms.BooleanField)
        ]
        mixed = any(f.required for f in visible) and any(not f.required for f in visible)
        name = f"{form.__module__}.{form.__name__}"
        if mixed and not issubclass(form, OptionalMarkedMixin) and name not in CONDITIONAL:
            unmarked.append(name)
    assert unmarked == []
