"""The reference-request form says which fields it needs before it is sent."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

REQUIRED = [
    "prospect_name",
    "prospect_email",
    "prospect_company",
    "opportunity_name",
    "opportunity_amount",
    "needed_by",
]
OPTIONAL = ["prospect_title", "prospect_seniority", "prospect_industry", "prospect_company_size"]


def _control(page: str, name: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{name}"[^>]*>', page)
    assert found, f"no control named {name}"
    return found.group(0)


def _label(page: str, name: str) -> str:
    found = re.search(rf'<label\b[^>]*\bfor="id_{name}"[^>]*>(.*?)</label>', page, re.S)
    assert found, f"no label for {name}"
    return found.group(1)


def test_required_fields_carry_required_and_optional_ones_say_so(rep_client) -> None:
    page = rep_client.get(reverse("references:request_new")).content.decode()
    for name in REQUIRED:  # the Amount among them: browsers and screen readers know
        assert re.search(r"\srequired[\s>]", _control(page, name)), name
        assert "(optional)" not in _label(page, name), name
    for name in OPTIONAL:
        assert "(optional)" in _label(page, name), name
        assert not re.search(r"\srequired[\s>]", _control(page, name)), name
    # The marker sits inside the label, before Django's colon: "Their title (optional):".
    assert re.fullmatch(
        r'Their title <span class="field-optional">\(optional\)</span>:',
        _label(page, "prospect_title"),
    )
    assert _label(page, "opportunity_amount") == "Amount:"
    assert "Fill in every field not marked “(optional)”." in page
