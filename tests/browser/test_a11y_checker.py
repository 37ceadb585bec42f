"""The accessibility check itself: it must catch what it claims to catch, or the
journeys' "no violation" would prove nothing."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WIDTHS, check_a11y, page_overflow, require_browser

pytestmark = pytest.mark.browser


@pytest.fixture
def blank_page(browser):
    require_browser()
    width, height = WIDTHS["phone"]
    context = browser.new_context(viewport={"width": width, "height": height})
    yield context.new_page()
    context.close()


def test_axe_reports_an_unlabelled_input_and_low_contrast(blank_page) -> None:
    blank_page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<input type="text" name="q">'
        '<p style="color:#bbb;background:#fff">Hard to read</p>'
        "</main></body></html>"
    )
    with pytest.raises(AssertionError) as failure:
        check_a11y(blank_page)
    message = str(failure.value)
    assert "label" in message
    assert "color-contrast" in message


def test_a_clean_page_passes_and_sideways_scroll_is_measured(blank_page) -> None:
    blank_page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Hello</h1>'
        '<label for="q">Search</label><input id="q" type="text">'
        '<div style="width:600px">wide</div></main></body></html>'
    )
    check_a11y(blank_page)
    assert page_overflow(blank_page, WIDTHS["phone"][0]) > 0
